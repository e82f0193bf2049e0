//! Markup written as text, for the lines a page renders in bulk (an agenda of 200 items): one
//! `inner_html` per line instead of a DOM call for every element, attribute and listener, which
//! was most of the agenda's mount time. Only fixed element and attribute names come from the
//! code; every text and attribute value goes through [`escape_into`], so nothing a person typed
//! can become markup. Buttons in such markup carry `data-action` and are handled by one listener
//! on the list (see the agenda); links are ordinary links the router follows.

/// HTML being written.
#[derive(Debug, Default)]
pub struct Markup {
    html: String,
}

/// An attribute: its name (fixed in the code) and its value, or `None` to leave it out. An empty
/// value writes the bare attribute (for `disabled`).
pub type Attribute<'a> = (&'static str, Option<&'a str>);

impl Markup {
    /// Empty markup with room for a line of the agenda.
    pub fn new() -> Self {
        Self {
            html: String::with_capacity(1024),
        }
    }

    /// Empty markup with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            html: String::with_capacity(bytes),
        }
    }

    /// `<tag name="value"…>`.
    pub fn open(&mut self, tag: &'static str, attributes: &[Attribute<'_>]) -> &mut Self {
        self.html.push('<');
        self.html.push_str(tag);
        for (name, value) in attributes {
            let Some(value) = value else {
                continue;
            };
            self.html.push(' ');
            self.html.push_str(name);
            if !value.is_empty() {
                self.html.push_str("=\"");
                escape_into(&mut self.html, value);
                self.html.push('"');
            }
        }
        self.html.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.html.push_str("</");
        self.html.push_str(tag);
        self.html.push('>');
        self
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.html, text);
        self
    }

    /// `<tag attributes…>text</tag>`.
    pub fn element(
        &mut self,
        tag: &'static str,
        attributes: &[Attribute<'_>],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attributes).text(text).close(tag)
    }

    /// The HTML written.
    pub fn finish(self) -> String {
        self.html
    }
}

/// Appends `text` with the five characters that mean something in HTML text or in a quoted
/// attribute value replaced by their character references.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}
