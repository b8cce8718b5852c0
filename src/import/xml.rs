//! A small element tree over quick-xml, shared by the WordPress and Disqus importers.
//!
//! The whole document is read first, so a file that is not well-formed is refused before any
//! record is produced. Lenient where meaning is unambiguous: text or whitespace before the root
//! element is ignored, unquoted attribute values are accepted, and entity references that XML
//! does not define (`&nbsp;` in a WXR body) are kept verbatim.

use std::collections::HashSet;
use std::rc::Rc;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::ImportError;

/// Names and namespaces repeat on every record: they are interned and shared.
pub(crate) type Name = Rc<str>;

#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// Local name, without prefix.
    pub local: Name,
    /// Prefix as written (`wp`, `dsq`), if any.
    pub prefix: Option<Name>,
    /// Resolved namespace URI, if bound.
    pub ns: Option<Name>,
    /// Attributes as (local name, value).
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Text, CDATA and references directly inside this element, concatenated.
    pub text: String,
    /// Byte offset of the start tag's `<`.
    pub pos: u64,
}

impl Element {
    pub fn is(&self, local: &str) -> bool {
        &*self.local == local
    }

    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(local))
    }

    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(local))
    }

    /// Trimmed text of a child, or "" if absent.
    pub fn child_text(&self, local: &str) -> &str {
        self.child(local).map_or("", |c| c.text.trim())
    }

    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == local)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed document: its root element and a way to turn offsets into positions.
#[derive(Debug)]
pub(crate) struct Document<'a> {
    pub root: Element,
    bytes: &'a [u8],
    /// Byte offsets where lines start, built on first use (a file with many skipped records
    /// asks for many positions).
    line_starts: std::cell::OnceCell<Vec<usize>>,
}

impl Document<'_> {
    /// "line L, column C" for a byte offset.
    pub fn position(&self, offset: u64) -> String {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.bytes
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        });
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        let line = starts.partition_point(|&s| s <= end).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let column = String::from_utf8_lossy(&self.bytes[line_start..end])
            .chars()
            .count()
            + 1;
        format!("line {line}, column {column}")
    }
}

pub(crate) fn position(bytes: &[u8], offset: u64) -> String {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let before = &bytes[..end];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    format!("line {line}, column {column}")
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Reads the whole document into an element tree, or fails with the position of the problem.
/// `what` names the format in messages ("WordPress WXR", "Disqus XML").
pub(crate) fn parse_document<'a>(bytes: &'a [u8], what: &str) -> Result<Document<'a>, ImportError> {
    if std::str::from_utf8(bytes).is_err() {
        let valid = match std::str::from_utf8(bytes) {
            Err(e) => e.valid_up_to(),
            Ok(_) => 0,
        };
        return Err(ImportError::at(
            format!("{what}: the file is not valid UTF-8"),
            position(bytes, valid as u64),
        ));
    }
    let mut reader = NsReader::from_reader(bytes);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
    }
    let mut names: HashSet<Name> = HashSet::new();
    let mut intern = |s: &str| -> Name {
        match names.get(s) {
            Some(n) => Rc::clone(n),
            None => {
                let n: Name = Rc::from(s);
                names.insert(Rc::clone(&n));
                n
            }
        }
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf_pos: u64 = 0;
    loop {
        let event = reader.read_resolved_event();
        let (ns, event) = match event {
            Ok(x) => x,
            Err(e) => {
                return Err(ImportError::at(
                    format!("{what} is not well-formed XML: {e}"),
                    position(bytes, reader.error_position()),
                ));
            }
        };
        let ns = match ns {
            ResolveResult::Bound(n) => Some(intern(n.0)),
            _ => None,
        };
        let after = reader.buffer_position();
        match event {
            Event::Start(start) => {
                if root.is_some() && stack.is_empty() {
                    return Err(ImportError::at(
                        format!(
                            "{what} is not well-formed XML: a second root element follows the first"
                        ),
                        position(bytes, buf_pos),
                    ));
                }
                let qname = start.name();
                let qname = qname.as_ref();
                let (prefix, local) = match qname.split_once(':') {
                    Some((p, l)) => (Some(intern(p)), intern(l)),
                    None => (None, intern(qname)),
                };
                if let Some(parent) = stack.last_mut() {
                    // Whitespace between child elements is not content: drop it.
                    if !parent.text.is_empty() && parent.text.trim().is_empty() {
                        parent.text = String::new();
                    }
                }
                let mut attrs = Vec::new();
                for attr in start.html_attributes() {
                    let attr = attr.map_err(|e| {
                        ImportError::at(
                            format!("{what}: bad attribute in <{qname}>: {e}"),
                            position(bytes, buf_pos),
                        )
                    })?;
                    let key = attr.key.local_name().as_ref().to_string();
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_or_else(|_| attr.value.to_string(), |v| v.into_owned());
                    attrs.push((key, value));
                }
                stack.push(Element {
                    local,
                    prefix,
                    ns,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                    pos: buf_pos,
                });
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(ImportError::at(
                        format!(
                            "{what} is not well-formed XML: closing tag without an opening tag"
                        ),
                        position(bytes, buf_pos),
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    let text = t.xml10_content();
                    if cur.children.is_empty() || !text.trim().is_empty() {
                        cur.text.push_str(&text);
                    }
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(cur) = stack.last_mut() {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(ch)) => Some(ch),
                        Ok(None) => predefined_entity(&r),
                        Err(e) => {
                            return Err(ImportError::at(
                                format!("{what}: bad character reference &{};: {e}", &*r),
                                position(bytes, buf_pos),
                            ));
                        }
                    };
                    match resolved {
                        Some(ch) => cur.text.push(ch),
                        None => {
                            // Not defined by XML (e.g. an HTML entity): keep it as written.
                            cur.text.push('&');
                            cur.text.push_str(&r);
                            cur.text.push(';');
                        }
                    }
                }
            }
            Event::Eof => break,
            Event::Empty(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
        buf_pos = after;
    }
    if let Some(open) = stack.last() {
        let name = match &open.prefix {
            Some(p) => format!("{p}:{}", open.local),
            None => open.local.to_string(),
        };
        return Err(ImportError::at(
            format!(
                "{what} is not well-formed XML: the file ends before <{name}> (opened at {}) is closed; is it truncated?",
                position(bytes, open.pos)
            ),
            position(bytes, bytes.len() as u64),
        ));
    }
    match root {
        Some(root) => Ok(Document {
            root,
            bytes,
            line_starts: std::cell::OnceCell::new(),
        }),
        None => Err(ImportError::at(
            format!("{what}: the file contains no XML element"),
            position(bytes, bytes.len() as u64),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn builds_tree_with_text_cdata_and_refs() {
        let doc = parse_document(
            b"\n<?xml version=\"1.0\"?><a xmlns:wp=\"http://wordpress.org/export/1.2/\"><wp:b x=\"1\">t &amp; <![CDATA[<p>]]>&#233;&nbsp;</wp:b><c/></a>",
            "test",
        )
        .unwrap();
        let b = doc.root.child("b").unwrap();
        assert_eq!(b.text, "t & <p>\u{e9}&nbsp;");
        assert_eq!(b.attr("x"), Some("1"));
        assert_eq!(b.prefix.as_deref(), Some("wp"));
        assert_eq!(b.ns.as_deref(), Some("http://wordpress.org/export/1.2/"));
        assert!(doc.root.child("c").is_some());
    }

    #[test]
    fn document_positions_match_the_plain_scan() {
        let bytes = "<a>\n  <b>ö</b>\n\n<c/></a>\n".as_bytes();
        let doc = parse_document(bytes, "test").unwrap();
        for offset in 0..=bytes.len() as u64 + 2 {
            assert_eq!(doc.position(offset), position(bytes, offset), "{offset}");
        }
        assert_eq!(
            doc.position(doc.root.child("b").unwrap().pos),
            "line 2, column 3"
        );
    }

    #[test]
    fn truncated_document_names_the_open_element() {
        let err = parse_document(b"<a>\n<b>text", "test").unwrap_err();
        assert!(err.message.contains("<b>"), "{err}");
        assert!(err.message.contains("truncated"), "{err}");
        assert_eq!(err.position.as_deref(), Some("line 2, column 8"));
    }

    #[test]
    fn mismatched_end_tag_has_position() {
        let err = parse_document(b"<a>\n  <b></c></a>", "test").unwrap_err();
        assert!(err.message.contains("not well-formed"), "{err}");
        assert!(err.position.unwrap().starts_with("line 2"));
    }
}
