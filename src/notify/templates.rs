//! Mail texts: one layout (plain text and HTML, compiled in with askama) filled per kind, in
//! the site's language. A `templates_dir` may replace the layout (see `overrides`).

use askama::Template;

use crate::render::SafeHtml;

/// A quoted comment in a mail.
#[derive(Debug, Clone)]
pub struct Quoted {
    pub author: String,
    /// The comment's markdown source, for the plain-text part.
    pub text: String,
    /// The comment's sanitized HTML.
    pub html: SafeHtml,
}

/// Everything a mail shows; every string is plain text (escaped in the HTML part).
#[derive(Debug, Clone, Default)]
pub struct MailView {
    pub lang: String,
    pub site: String,
    pub subject: String,
    pub heading: String,
    pub intro: Vec<String>,
    pub comment: Option<Quoted>,
    pub facts: Vec<(String, String)>,
    pub actions: Vec<(String, String)>,
    pub footer: String,
    pub unsubscribe: Option<(String, String)>,
}

/// A rendered mail.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

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

impl MailView {
    /// Renders both parts with the built-in layout, or the override folder's when given.
    pub fn render(&self, overrides: Option<&std::path::Path>) -> Result<Rendered, String> {
        if let Some(dir) = overrides
            && let Some(rendered) = super::overrides::render(dir, self)?
        {
            return Ok(rendered);
        }
        let text = TextMail { m: self }.render().map_err(|e| e.to_string())?;
        let html = HtmlMail { m: self }.render().map_err(|e| e.to_string())?;
        Ok(Rendered {
            subject: self.subject.clone(),
            text,
            html,
        })
    }
}

/// The words of the mails in one language. `{author}`, `{title}`, `{site}` and `{days}` are
/// filled in; everything is plain text.
#[derive(Debug)]
pub struct Strings {
    pub reply_subject: &'static str,
    pub reply_intro: &'static str,
    pub reply_footer: &'static str,
    pub thread_subject: &'static str,
    pub thread_intro: &'static str,
    pub thread_footer: &'static str,
    pub view_comment: &'static str,
    pub unsubscribe_thread: &'static str,
    pub unsubscribe_all: &'static str,
    pub confirm_subject: &'static str,
    pub confirm_intro: &'static str,
    pub confirm_action: &'static str,
    pub confirm_footer: &'static str,
    pub owner_subject_new: &'static str,
    pub owner_subject_held: &'static str,
    pub owner_intro: &'static str,
    pub owner_footer: &'static str,
    pub page: &'static str,
    pub status: &'static str,
    pub status_pending: &'static str,
    pub status_approved: &'static str,
    pub why_held: &'static str,
    pub website: &'static str,
    pub approve: &'static str,
    pub delete: &'static str,
    pub spam: &'static str,
    pub manage_subject: &'static str,
    pub manage_intro: &'static str,
    pub manage_action: &'static str,
    pub manage_footer: &'static str,
}

const EN: Strings = Strings {
    reply_subject: "{author} replied to your comment on “{title}”",
    reply_intro: "{author} replied to your comment on “{title}”:",
    reply_footer: "You get this mail because you asked to be told about replies to your comment on {site}.",
    thread_subject: "New comment on “{title}”",
    thread_intro: "{author} commented on “{title}”:",
    thread_footer: "You get this mail because you subscribed to new comments on this page of {site}.",
    view_comment: "Read it on the page",
    unsubscribe_thread: "Stop mails about this page",
    unsubscribe_all: "Stop all mails from {site}",
    confirm_subject: "Please confirm notifications from {site}",
    confirm_intro: "Someone, hopefully you, asked {site} to send mail to this address about new comments. Nothing will be sent until you confirm.",
    confirm_action: "Yes, send me notifications",
    confirm_footer: "If you did not ask for this, ignore this mail: you will not hear from us again. The link works for {days} days.",
    owner_subject_new: "New comment on “{title}” by {author}",
    owner_subject_held: "Held for moderation: comment on “{title}” by {author}",
    owner_intro: "{author} commented on “{title}”:",
    owner_footer: "You get this mail as the owner of {site}. Each link works once, for {days} days, and asks before it acts. To stop these mails, set mail.owner_notifications.",
    page: "Page",
    status: "Status",
    status_pending: "held for moderation",
    status_approved: "published",
    why_held: "Why held",
    website: "Website",
    approve: "Approve",
    delete: "Delete",
    spam: "Mark as spam",
    manage_subject: "Your comments on {site}",
    manage_intro: "Someone, hopefully you, asked for a link to see, delete or download the comments written with this address on {site}.",
    manage_action: "Manage my comments",
    manage_footer: "The link works for {days} days. If you did not ask for it, ignore this mail.",
};

const DE: Strings = Strings {
    reply_subject: "{author} hat auf Ihren Kommentar zu „{title}“ geantwortet",
    reply_intro: "{author} hat auf Ihren Kommentar zu „{title}“ geantwortet:",
    reply_footer: "Sie erhalten diese E-Mail, weil Sie über Antworten auf Ihren Kommentar bei {site} benachrichtigt werden wollten.",
    thread_subject: "Neuer Kommentar zu „{title}“",
    thread_intro: "{author} hat „{title}“ kommentiert:",
    thread_footer: "Sie erhalten diese E-Mail, weil Sie neue Kommentare auf dieser Seite von {site} abonniert haben.",
    view_comment: "Auf der Seite lesen",
    unsubscribe_thread: "Keine E-Mails mehr zu dieser Seite",
    unsubscribe_all: "Keine E-Mails mehr von {site}",
    confirm_subject: "Bitte bestätigen Sie die Benachrichtigungen von {site}",
    confirm_intro: "Jemand, hoffentlich Sie, hat {site} gebeten, an diese Adresse über neue Kommentare zu schreiben. Bis Sie bestätigen, wird nichts gesendet.",
    confirm_action: "Ja, Benachrichtigungen senden",
    confirm_footer: "Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail. Der Link gilt {days} Tage.",
    owner_subject_new: "Neuer Kommentar zu „{title}“ von {author}",
    owner_subject_held: "Zur Moderation: Kommentar zu „{title}“ von {author}",
    owner_intro: "{author} hat „{title}“ kommentiert:",
    owner_footer: "Sie erhalten diese E-Mail als Betreiber von {site}. Jeder Link wirkt einmal, {days} Tage lang, und fragt vorher nach. Abschalten mit mail.owner_notifications.",
    page: "Seite",
    status: "Status",
    status_pending: "wartet auf Freigabe",
    status_approved: "veröffentlicht",
    why_held: "Grund",
    website: "Website",
    approve: "Freigeben",
    delete: "Löschen",
    spam: "Als Spam markieren",
    manage_subject: "Ihre Kommentare bei {site}",
    manage_intro: "Jemand, hoffentlich Sie, hat einen Link angefordert, um die mit dieser Adresse geschriebenen Kommentare bei {site} zu sehen, zu löschen oder herunterzuladen.",
    manage_action: "Meine Kommentare verwalten",
    manage_footer: "Der Link gilt {days} Tage. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.",
};

const FR: Strings = Strings {
    reply_subject: "{author} a répondu à votre commentaire sur « {title} »",
    reply_intro: "{author} a répondu à votre commentaire sur « {title} » :",
    reply_footer: "Vous recevez ce message car vous avez demandé à être averti des réponses à votre commentaire sur {site}.",
    thread_subject: "Nouveau commentaire sur « {title} »",
    thread_intro: "{author} a commenté « {title} » :",
    thread_footer: "Vous recevez ce message car vous suivez les nouveaux commentaires de cette page de {site}.",
    view_comment: "Le lire sur la page",
    unsubscribe_thread: "Ne plus recevoir de messages sur cette page",
    unsubscribe_all: "Ne plus recevoir aucun message de {site}",
    confirm_subject: "Confirmez les notifications de {site}",
    confirm_intro: "Quelqu’un, vous sans doute, a demandé à {site} d’écrire à cette adresse au sujet des nouveaux commentaires. Rien ne sera envoyé avant votre confirmation.",
    confirm_action: "Oui, envoyez-moi les notifications",
    confirm_footer: "Si vous n’avez rien demandé, ignorez ce message. Le lien est valable {days} jours.",
    owner_subject_new: "Nouveau commentaire sur « {title} » par {author}",
    owner_subject_held: "En attente de modération : commentaire sur « {title} » par {author}",
    owner_intro: "{author} a commenté « {title} » :",
    owner_footer: "Vous recevez ce message en tant que propriétaire de {site}. Chaque lien sert une fois, pendant {days} jours, et demande confirmation. Pour arrêter : mail.owner_notifications.",
    page: "Page",
    status: "État",
    status_pending: "en attente de modération",
    status_approved: "publié",
    why_held: "Motif",
    website: "Site web",
    approve: "Approuver",
    delete: "Supprimer",
    spam: "Indésirable",
    manage_subject: "Vos commentaires sur {site}",
    manage_intro: "Quelqu’un, vous sans doute, a demandé un lien pour voir, supprimer ou télécharger les commentaires écrits avec cette adresse sur {site}.",
    manage_action: "Gérer mes commentaires",
    manage_footer: "Le lien est valable {days} jours. Si vous ne l’avez pas demandé, ignorez ce message.",
};

impl Strings {
    /// The strings for a site language; English when there is no translation.
    pub fn for_language(language: &str) -> &'static Strings {
        match language.split(['-', '_']).next().unwrap_or_default() {
            "de" => &DE,
            "fr" => &FR,
            _ => &EN,
        }
    }
}

/// Fills `{author}`, `{title}`, `{site}` and `{days}` in a string, in one pass (a value that
/// itself looks like a placeholder stays as it is).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find('}').and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, end))
        });
        match replaced {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_once_and_leaves_lookalikes_in_values_alone() {
        let out = fill(
            "{author} on {title} ({site}) {unknown}",
            &[("author", "{site}"), ("title", "T"), ("site", "S")],
        );
        assert_eq!(out, "{site} on T (S) {unknown}");
    }
}
