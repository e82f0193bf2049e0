//! A long list whose lines are written as markup ([`super::markup`]), kept in step with what it
//! should show the way a keyed list would, without a component per line: a line whose markup is
//! unchanged keeps its element (so the keyboard focus, and anything mounted into it, stay), a
//! changed or new line is parsed (all of them in one go), and lines that moved are moved with
//! as few DOM moves as possible (everything on the longest run already in order stays put).
//!
//! It exists because mounting a keyed list of 200 line components cost about half of a 200-item
//! agenda's mount (BENCHMARKS.md, issue 14).

use std::collections::HashMap;

use uuid::Uuid;
use web_sys::Element;

/// One line: its key and its markup, which must be exactly one element.
pub type MarkupLine = (Uuid, String);

/// The lines now in a container; see the module documentation.
pub struct MarkupLines {
    lines: Vec<(Uuid, String, Element)>,
    /// The container's children are not one element a line (markup that broke the rule): the
    /// next update writes the whole list again rather than keep lines it cannot tell apart.
    mismatched: bool,
}

impl MarkupLines {
    /// Takes over the lines already in `container`, written there (as its `inner_html`) from
    /// `lines`. If the container does not hold one element per line it is rewritten.
    pub fn adopt(container: &Element, lines: &[MarkupLine]) -> Self {
        let elements = children(container);
        if elements.len() == lines.len() {
            Self::from_parts(lines, elements)
        } else {
            Self::rewrite(container, lines)
        }
    }

    /// Writes the whole list.
    fn rewrite(container: &Element, lines: &[MarkupLine]) -> Self {
        container.set_inner_html(&joined(lines));
        let elements = children(container);
        if elements.len() == lines.len() {
            Self::from_parts(lines, elements)
        } else {
            Self {
                lines: Vec::new(),
                mismatched: true,
            }
        }
    }

    fn from_parts(lines: &[MarkupLine], elements: Vec<Element>) -> Self {
        Self {
            lines: lines
                .iter()
                .zip(elements)
                .map(|((key, html), element)| (*key, html.clone(), element))
                .collect(),
            mismatched: false,
        }
    }

    /// Brings `container` in step with `lines`; see the module documentation.
    pub fn update(&mut self, container: &Element, lines: &[MarkupLine]) {
        if self.mismatched {
            *self = Self::rewrite(container, lines);
            return;
        }
        let mut old: HashMap<Uuid, (usize, String, Element)> = HashMap::new();
        for (index, (key, html, element)) in self.lines.drain(..).enumerate() {
            // Keys should be unique; a repeated one keeps only its last line.
            if let Some((_, _, repeated)) = old.insert(key, (index, html, element)) {
                repeated.remove();
            }
        }
        // For each new line: the element it keeps (with its old position), or none.
        let mut kept: Vec<Option<(usize, Element)>> = Vec::with_capacity(lines.len());
        let mut fresh = String::new();
        let mut fresh_count = 0;
        for (key, html) in lines {
            match old.remove(key) {
                Some((index, was, element)) if &was == html => kept.push(Some((index, element))),
                other => {
                    if let Some((_, _, element)) = other {
                        element.remove();
                    }
                    fresh.push_str(html);
                    fresh_count += 1;
                    kept.push(None);
                }
            }
        }
        for (_, _, element) in old.into_values() {
            element.remove();
        }
        let parsed = parse(container, &fresh);
        if parsed.len() != fresh_count {
            // Not one element a line: write the whole list rather than show it wrong.
            *self = Self::rewrite(container, lines);
            return;
        }
        let stays = longest_increasing(
            &kept
                .iter()
                .map(|k| k.as_ref().map(|(index, _)| *index))
                .collect::<Vec<_>>(),
        );
        let mut parsed = parsed.into_iter();
        let elements: Vec<Element> = kept
            .into_iter()
            .map(|k| match k {
                Some((_, element)) => element,
                None => parsed.next().expect("counted above"),
            })
            .collect();
        // From the end, so the element each line goes before is already in place.
        let mut anchor: Option<&Element> = None;
        for (index, element) in elements.iter().enumerate().rev() {
            if !stays[index] {
                let _ = container.insert_before(element, anchor.map(AsRef::as_ref));
            }
            anchor = Some(element);
        }
        self.lines = lines
            .iter()
            .zip(elements)
            .map(|((key, html), element)| (*key, html.clone(), element))
            .collect();
    }

    /// One run of an effect that keeps `container` in step with `lines`: the first run takes over
    /// the `first` lines already written into it, every run brings it up to date.
    pub fn step<'a>(
        kept: &'a mut Option<Self>,
        first: &mut Option<Vec<MarkupLine>>,
        container: &Element,
        lines: &[MarkupLine],
    ) -> &'a Self {
        let this = kept.get_or_insert_with(|| match first.take() {
            Some(first) => Self::adopt(container, &first),
            None => Self::adopt(container, lines),
        });
        this.update(container, lines);
        this
    }

    /// The element of the line with this key.
    pub fn element(&self, key: Uuid) -> Option<&Element> {
        self.lines
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, element)| element)
    }

    /// The lines' elements in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.lines.iter().map(|(_, _, element)| element)
    }
}

/// The container's element children in order.
fn children(container: &Element) -> Vec<Element> {
    let mut elements = Vec::new();
    let mut next = container.first_element_child();
    while let Some(element) = next {
        next = element.next_element_sibling();
        elements.push(element);
    }
    elements
}

fn joined(lines: &[MarkupLine]) -> String {
    lines.iter().map(|(_, html)| html.as_str()).collect()
}

/// The elements `html` makes when parsed as the content of an element like `container` (so
/// `<li>` for a list, `<tr>` for a table body), not yet in the document.
fn parse(container: &Element, html: &str) -> Vec<Element> {
    if html.is_empty() {
        return Vec::new();
    }
    let Some(scratch) = container
        .owner_document()
        .and_then(|d| d.create_element(&container.tag_name()).ok())
    else {
        return Vec::new();
    };
    scratch.set_inner_html(html);
    children(&scratch)
}

/// For a sequence of old positions (none for a new line), which entries belong to one longest
/// strictly increasing run: those lines are already in order and need not move.
pub fn longest_increasing(positions: &[Option<usize>]) -> Vec<bool> {
    // tails[k]: the index (into positions) ending the best run of length k + 1 found so far.
    let mut tails: Vec<usize> = Vec::new();
    let mut before: Vec<Option<usize>> = vec![None; positions.len()];
    for (i, position) in positions.iter().enumerate() {
        let Some(position) = *position else {
            continue;
        };
        let length = tails.partition_point(|&t| positions[t].is_some_and(|p| p < position));
        if length > 0 {
            before[i] = Some(tails[length - 1]);
        }
        if length == tails.len() {
            tails.push(i);
        } else {
            tails[length] = i;
        }
    }
    let mut stays = vec![false; positions.len()];
    let mut at = tails.last().copied();
    while let Some(i) = at {
        stays[i] = true;
        at = before[i];
    }
    stays
}

/// Keeps the children of the element behind `container` in step with `lines` for as long as the
/// current owner lives. The first lines, `first`, must already be in it as its `inner_html`
/// (so the list shows at once, before any effect has run).
pub fn keep_in_step<E>(
    container: leptos::prelude::NodeRef<E>,
    lines: leptos::prelude::Memo<Vec<MarkupLine>>,
    first: Vec<MarkupLine>,
) where
    E: leptos::tachys::html::element::ElementType,
    E::Output: wasm_bindgen::JsCast + Clone + 'static,
{
    use leptos::prelude::{Effect, Get, With};
    use wasm_bindgen::JsCast;

    let mut kept: Option<MarkupLines> = None;
    let mut first = Some(first);
    Effect::new(move |_| {
        let Some(element) = container.get() else {
            return;
        };
        let element: Element = element.unchecked_into();
        lines.with(|lines| {
            MarkupLines::step(&mut kept, &mut first, &element, lines);
        });
    });
}
