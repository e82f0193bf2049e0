//! The first records of the directory and the meeting calendar (DESIGN §2.1), by the names the
//! app and the server have always used: the types live in their own modules ([`super::directory`],
//! [`super::team`], [`super::meeting`]) on the record contract ([`super::record`]). Core modules
//! import from those directly; this is the short path for everything outside the core.

pub use super::directory::*;
pub use super::meeting::*;
pub use super::record::{Entity, EntityKind};
pub use super::team::*;
