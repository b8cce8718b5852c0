//! Templates from `mail.templates_dir`, replacing the built-in layout without a rebuild.
//!
//! The folder holds `message.txt` and `message.html`; in both, `{{ name }}` placeholders are
//! filled: `lang`, `site`, `subject`, `heading`, `intro`, `comment_author`, `comment_text`,
//! `comment_html`, `facts`, `actions`, `digest`, `footer`, `unsubscribe_url`. In the HTML file
//! every value is escaped (askama's HTML escaper); `comment_html` is the sanitized comment and
//! `intro`, `facts`, `actions` and `digest` (a digest's comments by page, empty in other
//! mails) arrive as ready, escaped HTML fragments.

use std::path::Path;

use askama::Template;

use super::view::{MailView, Rendered};

enum Part<'a> {
    Intro,
    Facts,
    Actions,
    Digest,
    Escaped(&'a str),
}

#[derive(Template)]
#[template(path = "mail/parts.html", config = "src/templates/askama.toml")]
struct Parts<'a> {
    m: &'a MailView,
    part: Part<'a>,
}

fn html_part(m: &MailView, part: Part<'_>) -> Result<String, String> {
    Parts { m, part }.render().map_err(|e| e.to_string())
}

/// The two template files of a `templates_dir`, read once at start.
#[derive(Debug, Clone)]
pub struct FolderTemplates {
    text: String,
    html: String,
}

impl FolderTemplates {
    /// `None` when the folder has neither `message.txt` nor `message.html`; an error when it has
    /// only one of them or one cannot be read.
    pub fn load(dir: &Path) -> Result<Option<Self>, String> {
        let read = |name: &str| {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!(
                    "mail.templates_dir: cannot read {}: {e}",
                    path.display()
                )),
            }
        };
        match (read("message.txt")?, read("message.html")?) {
            (Some(text), Some(html)) => Ok(Some(Self { text, html })),
            (None, None) => Ok(None),
            _ => Err(format!(
                "mail.templates_dir {}: needs both message.txt and message.html",
                dir.display()
            )),
        }
    }

    /// Fills the templates with the mail's values.
    pub fn render(&self, m: &MailView) -> Result<Rendered, String> {
        render(&self.text, &self.html, m)
    }
}

fn render(text: &str, html: &str, m: &MailView) -> Result<Rendered, String> {
    let comment_author = m.comment.as_ref().map(|c| c.author.as_str()).unwrap_or("");
    let comment_text = m.comment.as_ref().map(|c| c.text.as_str()).unwrap_or("");
    let comment_html = m.comment.as_ref().map(|c| c.html.as_str()).unwrap_or("");
    let unsubscribe = m
        .unsubscribe
        .as_ref()
        .map(|(_, u)| u.as_str())
        .unwrap_or("");
    let intro_text = m.intro.join("\n\n");
    let facts_text: String = m.facts.iter().map(|(l, v)| format!("{l}: {v}\n")).collect();
    let actions_text: String = m
        .actions
        .iter()
        .map(|(l, u)| format!("{l}:\n{u}\n\n"))
        .collect();
    let digest_text = digest_text(m);
    let plain: Vec<(&str, String)> = vec![
        ("lang", m.lang.clone()),
        ("site", m.site.clone()),
        ("subject", m.subject.clone()),
        ("heading", m.heading.clone()),
        ("intro", intro_text),
        ("comment_author", comment_author.to_string()),
        ("comment_text", comment_text.to_string()),
        ("comment_html", comment_text.to_string()),
        ("facts", facts_text),
        ("actions", actions_text),
        ("digest", digest_text),
        ("footer", m.footer.clone()),
        ("unsubscribe_url", unsubscribe.to_string()),
    ];
    let mut escaped: Vec<(&str, String)> = Vec::new();
    for (name, value) in &plain {
        let html_value = match *name {
            "intro" => html_part(m, Part::Intro)?,
            "facts" => html_part(m, Part::Facts)?,
            "actions" => html_part(m, Part::Actions)?,
            "digest" => html_part(m, Part::Digest)?,
            "comment_html" => comment_html.to_string(),
            _ => html_part(m, Part::Escaped(value))?,
        };
        escaped.push((name, html_value));
    }
    Ok(Rendered {
        subject: m.subject.clone(),
        text: substitute(text, &plain),
        html: substitute(html, &escaped),
    })
}

/// A digest's comments by page as plain text.
fn digest_text(m: &MailView) -> String {
    let mut out = String::new();
    for section in &m.digest {
        out.push_str(&format!("== {} ==\n", section.title));
        if let Some(url) = &section.url {
            out.push_str(&format!("{url}\n"));
        }
        for e in &section.entries {
            let note = e
                .note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "\n{}, {}{note}:\n\n{}\n\n",
                e.comment.author, e.when, e.comment.text
            ));
            for (label, url) in &e.links {
                out.push_str(&format!("{label}: {url}\n"));
            }
        }
        out.push('\n');
    }
    out
}

/// Replaces `{{ name }}` (spaces optional) with its value, in one pass.
fn substitute(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let found = after.find("}}").and_then(|end| {
            let name = after[..end].trim();
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v.as_str(), end))
        });
        match found {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
