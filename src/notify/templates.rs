//! The built-in mail layout: plain text and HTML, compiled in with askama.

use askama::Template;

use super::view::{MailView, Rendered};

#[derive(Template)]
#[template(path = "mail/message.txt", config = "src/templates/askama.toml")]
struct TextMail<'a> {
    m: &'a MailView,
}

#[derive(Template)]
#[template(path = "mail/message.html", config = "src/templates/askama.toml")]
struct HtmlMail<'a> {
    m: &'a MailView,
}

/// Renders both parts with the built-in layout.
pub fn render(m: &MailView) -> Result<Rendered, String> {
    let text = TextMail { m }.render().map_err(|e| e.to_string())?;
    let html = HtmlMail { m }.render().map_err(|e| e.to_string())?;
    Ok(Rendered {
        subject: m.subject.clone(),
        text,
        html,
    })
}
