//! A small document tree for html5ever's tree builder: enough to find links, read
//! microformats and write a fragment back out. The parsing itself (comments, scripts, broken
//! markup) is html5ever's, done as a browser does it.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, ExpandedName, QualName, local_name, ns};

pub type Handle = Rc<Node>;

/// What a node is.
pub enum Kind {
    Document,
    Element {
        attrs: RefCell<Vec<Attribute>>,
        /// The contents of a `<template>`, kept apart from its children (as browsers do).
        template: Option<Handle>,
    },
    Text(RefCell<String>),
    /// Comments, doctypes, processing instructions: nothing a mention is read from.
    Other,
}

pub struct Node {
    /// The element's name; empty for other nodes.
    pub name: QualName,
    pub kind: Kind,
    parent: RefCell<Option<Weak<Node>>>,
    pub children: RefCell<Vec<Handle>>,
}

impl Node {
    fn new(name: QualName, kind: Kind) -> Handle {
        Rc::new(Node {
            name,
            kind,
            parent: RefCell::new(None),
            children: RefCell::new(Vec::new()),
        })
    }

    fn other(kind: Kind) -> Handle {
        Self::new(QualName::new(None, ns!(), local_name!("")), kind)
    }

    /// The element's local name, `None` for other nodes.
    pub fn tag(&self) -> Option<&str> {
        match self.kind {
            Kind::Element { .. } => Some(&self.name.local),
            _ => None,
        }
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        match &self.kind {
            Kind::Element { attrs, .. } => attrs
                .borrow()
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string()),
            _ => None,
        }
    }

    fn parent(&self) -> Option<Handle> {
        self.parent.borrow().as_ref().and_then(Weak::upgrade)
    }
}

impl Drop for Node {
    // Iterative, so that a hostile page nested a million deep cannot overflow the stack.
    fn drop(&mut self) {
        let mut nodes = std::mem::take(&mut *self.children.borrow_mut());
        while let Some(node) = nodes.pop() {
            nodes.extend(std::mem::take(&mut *node.children.borrow_mut()));
            if let Kind::Element {
                template: Some(t), ..
            } = &node.kind
            {
                nodes.extend(std::mem::take(&mut *t.children.borrow_mut()));
            }
        }
    }
}

/// Parses a whole HTML document.
pub fn parse_document(html: &str) -> Handle {
    html5ever::parse_document(Dom::default(), Default::default()).one(html)
}

/// The tree under construction.
pub struct Dom {
    document: Handle,
    quirks: Cell<QuirksMode>,
}

impl Default for Dom {
    fn default() -> Self {
        Self {
            document: Node::other(Kind::Document),
            quirks: Cell::new(QuirksMode::NoQuirks),
        }
    }
}

fn detach(node: &Handle) {
    if let Some(parent) = node.parent() {
        parent
            .children
            .borrow_mut()
            .retain(|c| !Rc::ptr_eq(c, node));
    }
    *node.parent.borrow_mut() = None;
}

fn append_node(parent: &Handle, child: Handle) {
    detach(&child);
    *child.parent.borrow_mut() = Some(Rc::downgrade(parent));
    parent.children.borrow_mut().push(child);
}

/// Where `child` stands among `parent`'s children (0 when it is not there).
fn index_of(parent: &Handle, child: &Handle) -> usize {
    parent
        .children
        .borrow()
        .iter()
        .position(|c| Rc::ptr_eq(c, child))
        .unwrap_or(0)
}

/// Puts a detached node among `parent`'s children at `index`.
fn insert_at(parent: &Handle, index: usize, child: Handle) {
    *child.parent.borrow_mut() = Some(Rc::downgrade(parent));
    parent.children.borrow_mut().insert(index, child);
}

/// Appends text, joining it to a text node right before it.
fn append_text(parent: &Handle, text: &str) {
    if let Some(last) = parent.children.borrow().last()
        && let Kind::Text(existing) = &last.kind
    {
        existing.borrow_mut().push_str(text);
        return;
    }
    let node = Node::other(Kind::Text(RefCell::new(text.to_string())));
    append_node(parent, node);
}

impl TreeSink for Dom {
    type Handle = Handle;
    type Output = Handle;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Handle {
        self.document
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.document.clone()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        target.name.expanded()
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let template = flags.template.then(|| Node::other(Kind::Document));
        Node::new(
            name,
            Kind::Element {
                attrs: RefCell::new(attrs),
                template,
            },
        )
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Node::other(Kind::Other)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Node::other(Kind::Other)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        match child {
            NodeOrText::AppendNode(node) => append_node(parent, node),
            NodeOrText::AppendText(text) => append_text(parent, &text),
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        if element.parent().is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match &target.kind {
            Kind::Element {
                template: Some(t), ..
            } => t.clone(),
            _ => target.clone(),
        }
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        Rc::ptr_eq(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.quirks.set(mode);
    }

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        let Some(parent) = sibling.parent() else {
            return;
        };
        let index = index_of(&parent, sibling);
        match new_node {
            NodeOrText::AppendText(text) => {
                if index > 0
                    && let Some(prev) = parent.children.borrow().get(index - 1)
                    && let Kind::Text(existing) = &prev.kind
                {
                    existing.borrow_mut().push_str(&text);
                    return;
                }
                let node = Node::other(Kind::Text(RefCell::new(text.to_string())));
                insert_at(&parent, index, node);
            }
            NodeOrText::AppendNode(node) => {
                detach(&node);
                // Detaching may have moved the sibling (the node was before it in `parent`).
                insert_at(&parent, index_of(&parent, sibling), node);
            }
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        if let Kind::Element {
            attrs: existing, ..
        } = &target.kind
        {
            let mut existing = existing.borrow_mut();
            for attr in attrs {
                if !existing.iter().any(|a| a.name == attr.name) {
                    existing.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        detach(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let children = std::mem::take(&mut *node.children.borrow_mut());
        for child in children {
            *child.parent.borrow_mut() = Some(Rc::downgrade(new_parent));
            new_parent.children.borrow_mut().push(child);
        }
    }
}

/// Elements that have no end tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

/// The HTML of a node's children (elements, attributes and text, escaped; comments dropped).
/// Only a starting point for the sanitizer, never shown as it is.
pub fn inner_html(node: &Handle) -> String {
    enum Step {
        Open(Handle),
        Close(String),
    }
    let mut out = String::new();
    let mut stack: Vec<Step> = node
        .children
        .borrow()
        .iter()
        .rev()
        .cloned()
        .map(Step::Open)
        .collect();
    while let Some(step) = stack.pop() {
        match step {
            Step::Close(tag) => {
                out.push_str("</");
                out.push_str(&tag);
                out.push('>');
            }
            Step::Open(n) => match &n.kind {
                Kind::Text(text) => escape_into(&mut out, &text.borrow(), false),
                Kind::Element { attrs, .. } => {
                    let tag = n.name.local.to_string();
                    out.push('<');
                    out.push_str(&tag);
                    for a in attrs.borrow().iter() {
                        out.push(' ');
                        out.push_str(&a.name.local);
                        out.push_str("=\"");
                        escape_into(&mut out, &a.value, true);
                        out.push('"');
                    }
                    out.push('>');
                    if !VOID.contains(&tag.as_str()) {
                        stack.push(Step::Close(tag));
                        stack.extend(n.children.borrow().iter().rev().cloned().map(Step::Open));
                    }
                }
                Kind::Document | Kind::Other => {}
            },
        }
    }
    out
}

fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn find(node: &Handle, tag: &str) -> Option<Handle> {
        if node.tag() == Some(tag) {
            return Some(node.clone());
        }
        node.children.borrow().iter().find_map(|c| find(c, tag))
    }

    #[test]
    fn misplaced_table_content_is_put_before_the_table() {
        // Text and elements inside a table but outside its cells are "foster parented": the
        // parser inserts them before the table (append_before_sibling), text joined together.
        let doc =
            parse_document("<div><table>one <b>bold</b> two<tr><td>x</td></tr></table></div>");
        let div = find(&doc, "div").unwrap();
        assert_eq!(
            inner_html(&div),
            "one <b>bold</b> two<table><tbody><tr><td>x</td></tr></tbody></table>"
        );
    }
}
