//! Mail composition, pure: what each kind of mail says, in the site's language. No database
//! and no signing here; callers pass the facts and the (already signed) link URLs, and one
//! function, [`compose`], builds every mail's view.

use super::links::ModAction;
use super::texts::{MailTexts, fill};
use super::view::{DigestEntry, DigestSection, MailView, Quoted};
use crate::domain::mail::Frequency;

/// Kinds of mail, as stored in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Reply,
    Thread,
    Confirm,
    Owner,
    Manage,
    Digest,
    OwnerDigest,
    SignIn,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Thread => "thread",
            Self::Confirm => "confirm",
            Self::Owner => "owner",
            Self::Manage => "manage",
            Self::Digest => "digest",
            Self::OwnerDigest => "owner_digest",
            Self::SignIn => "signin",
        }
    }
}

/// The site a mail comes from.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    pub site_name: &'a str,
    pub language: &'a str,
    /// Days the mail's links stay valid.
    pub link_days: u32,
}

/// A comment a mail is about, and where it was written.
#[derive(Debug, Clone)]
pub struct About {
    pub comment: Quoted,
    /// The page's title (its key when it has none).
    pub title: String,
    /// The comment on its page, when the page's address is known.
    pub url: Option<String>,
}

/// A page in a digest and its comments, oldest first.
#[derive(Debug, Clone)]
pub struct DigestPage {
    pub title: String,
    pub url: Option<String>,
    pub comments: Vec<DigestComment>,
}

/// A comment in a digest.
#[derive(Debug, Clone)]
pub struct DigestComment {
    pub comment: Quoted,
    pub written: chrono::DateTime<chrono::Utc>,
    /// The comment on its page, when the page's address is known.
    pub url: Option<String>,
    /// For the owner: whether it waits for moderation.
    pub held: Option<bool>,
    /// For the owner: one-time moderation links.
    pub actions: Vec<(ModAction, String)>,
}

/// One mail, with what it needs to say.
#[derive(Debug, Clone)]
pub enum Mail {
    /// The one confirmation an address gets before any notification.
    Confirm {
        confirm_url: String,
        unsubscribe_all_url: String,
    },
    /// A link to the address's comments.
    Manage {
        manage_url: String,
        unsubscribe_all_url: String,
    },
    /// A reader's sign-in link (valid for `minutes`, once).
    SignIn { signin_url: String, minutes: u32 },
    /// A reply to the recipient's comment.
    Reply {
        about: About,
        unsubscribe_thread_url: String,
    },
    /// A new comment on a page the recipient follows.
    Thread {
        about: About,
        unsubscribe_thread_url: String,
    },
    /// The owner's alert about a new comment, with one-time moderation links.
    Owner {
        about: About,
        /// The page (or its key) when `about.url` is unknown.
        page: String,
        held: bool,
        website: Option<String>,
        held_reason: Option<String>,
        actions: Vec<(ModAction, String)>,
    },
    /// A reader's daily or weekly digest of the comments they would have been mailed.
    Digest {
        frequency: Frequency,
        pages: Vec<DigestPage>,
        /// The page to choose instant, daily or weekly mail or to stop it (and RFC 8058).
        unsubscribe_url: String,
    },
    /// The owner's daily or weekly digest of new and held comments.
    OwnerDigest {
        frequency: Frequency,
        pages: Vec<DigestPage>,
    },
}

impl Mail {
    pub fn kind(&self) -> MailKind {
        match self {
            Self::Confirm { .. } => MailKind::Confirm,
            Self::Manage { .. } => MailKind::Manage,
            Self::SignIn { .. } => MailKind::SignIn,
            Self::Reply { .. } => MailKind::Reply,
            Self::Thread { .. } => MailKind::Thread,
            Self::Owner { .. } => MailKind::Owner,
            Self::Digest { .. } => MailKind::Digest,
            Self::OwnerDigest { .. } => MailKind::OwnerDigest,
        }
    }
}

/// Builds a mail's view in the sender's language.
pub fn compose(t: &MailTexts, sender: &Sender<'_>, mail: Mail) -> MailView {
    let days = sender.link_days.to_string();
    let minutes = match &mail {
        Mail::SignIn { minutes, .. } => minutes.to_string(),
        _ => String::new(),
    };
    let title = mail_about(&mail)
        .map(|about| quote_safe(t, &about.title))
        .unwrap_or_default();
    let author = mail_about(&mail)
        .map(|about| about.comment.author.clone())
        .unwrap_or_default();
    let count = match &mail {
        Mail::Digest { pages, .. } | Mail::OwnerDigest { pages, .. } => {
            pages.iter().map(|p| p.comments.len()).sum::<usize>()
        }
        _ => 0,
    }
    .to_string();
    let values = [
        ("author", author.as_str()),
        ("title", title.as_str()),
        ("site", sender.site_name),
        ("days", days.as_str()),
        ("count", count.as_str()),
        ("minutes", minutes.as_str()),
    ];
    let mut digest = Vec::new();
    let unsubscribe_all = |url: String| (fill(&t.unsubscribe_all, &values), url);
    let view_on_page = |about: &About| {
        about
            .url
            .clone()
            .map(|url| vec![(t.view_comment.clone(), url)])
            .unwrap_or_default()
    };
    let (subject, intro, footer, comment, facts, actions, unsubscribe) = match mail {
        Mail::Confirm {
            confirm_url,
            unsubscribe_all_url,
        } => (
            &t.confirm_subject,
            &t.confirm_intro,
            &t.confirm_footer,
            None,
            Vec::new(),
            vec![(t.confirm_action.clone(), confirm_url)],
            Some(unsubscribe_all(unsubscribe_all_url)),
        ),
        Mail::Manage {
            manage_url,
            unsubscribe_all_url,
        } => (
            &t.manage_subject,
            &t.manage_intro,
            &t.manage_footer,
            None,
            Vec::new(),
            vec![(t.manage_action.clone(), manage_url)],
            Some(unsubscribe_all(unsubscribe_all_url)),
        ),
        Mail::SignIn { signin_url, .. } => (
            &t.signin_subject,
            &t.signin_intro,
            &t.signin_footer,
            None,
            Vec::new(),
            vec![(t.signin_action.clone(), signin_url)],
            None,
        ),
        Mail::Reply {
            about,
            unsubscribe_thread_url,
        } => (
            &t.reply_subject,
            &t.reply_intro,
            &t.reply_footer,
            Some(about.comment.clone()),
            Vec::new(),
            view_on_page(&about),
            Some((t.unsubscribe_thread.clone(), unsubscribe_thread_url)),
        ),
        Mail::Thread {
            about,
            unsubscribe_thread_url,
        } => (
            &t.thread_subject,
            &t.thread_intro,
            &t.thread_footer,
            Some(about.comment.clone()),
            Vec::new(),
            view_on_page(&about),
            Some((t.unsubscribe_thread.clone(), unsubscribe_thread_url)),
        ),
        Mail::Owner {
            about,
            page,
            held,
            website,
            held_reason,
            actions,
        } => {
            let mut facts = vec![(t.page.clone(), about.url.clone().unwrap_or(page))];
            if let Some(website) = website {
                facts.push((t.website.clone(), website));
            }
            let status = if held {
                &t.status_pending
            } else {
                &t.status_approved
            };
            facts.push((t.status.clone(), status.clone()));
            if let Some(reason) = held_reason {
                facts.push((t.why_held.clone(), reason));
            }
            let actions = actions
                .into_iter()
                .map(|(action, url)| (action_label(t, action).to_string(), url))
                .collect();
            let subject = if held {
                &t.owner_subject_held
            } else {
                &t.owner_subject_new
            };
            (
                subject,
                &t.owner_intro,
                &t.owner_footer,
                Some(about.comment),
                facts,
                actions,
                None,
            )
        }
        Mail::Digest {
            frequency,
            pages,
            unsubscribe_url,
        } => {
            digest = digest_sections(t, pages);
            (
                if frequency == Frequency::Weekly {
                    &t.digest_subject_weekly
                } else {
                    &t.digest_subject_daily
                },
                &t.digest_intro,
                &t.digest_footer,
                None,
                Vec::new(),
                Vec::new(),
                Some((fill(&t.digest_manage, &values), unsubscribe_url)),
            )
        }
        Mail::OwnerDigest { frequency, pages } => {
            digest = digest_sections(t, pages);
            (
                if frequency == Frequency::Weekly {
                    &t.owner_digest_subject_weekly
                } else {
                    &t.owner_digest_subject_daily
                },
                &t.owner_digest_intro,
                &t.owner_digest_footer,
                None,
                Vec::new(),
                Vec::new(),
                None,
            )
        }
    };
    let subject = fill(subject, &values);
    MailView {
        lang: sender.language.to_string(),
        site: sender.site_name.to_string(),
        heading: subject.clone(),
        subject,
        intro: vec![fill(intro, &values)],
        comment,
        facts,
        actions,
        footer: fill(footer, &values),
        unsubscribe,
        digest,
    }
}

/// Characters of a comment's text a digest's plain-text part shows.
const EXCERPT_CHARS: usize = 600;

/// A digest's pages as the layout shows them: each comment with its author, time, an excerpt
/// (plain text) or its sanitized HTML, and its links.
fn digest_sections(t: &MailTexts, pages: Vec<DigestPage>) -> Vec<DigestSection> {
    pages
        .into_iter()
        .map(|page| DigestSection {
            title: page.title,
            url: page.url,
            entries: page
                .comments
                .into_iter()
                .map(|c| {
                    let mut links = Vec::new();
                    if let Some(url) = c.url {
                        let label = if c.held.is_some() {
                            &t.view_comment
                        } else {
                            &t.reply_link
                        };
                        links.push((label.clone(), url));
                    }
                    links.extend(
                        c.actions
                            .into_iter()
                            .map(|(action, url)| (action_label(t, action).to_string(), url)),
                    );
                    let note = c.held.map(|held| {
                        if held {
                            t.status_pending.clone()
                        } else {
                            t.status_approved.clone()
                        }
                    });
                    DigestEntry {
                        comment: Quoted {
                            text: excerpt(&c.comment.text),
                            ..c.comment
                        },
                        when: c.written.format("%Y-%m-%d %H:%M UTC").to_string(),
                        note,
                        links,
                    }
                })
                .collect(),
        })
        .collect()
}

/// The start of a text, cut at a word and marked with `…` when longer than [`EXCERPT_CHARS`].
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end())
}

fn mail_about(mail: &Mail) -> Option<&About> {
    match mail {
        Mail::Reply { about, .. } | Mail::Thread { about, .. } | Mail::Owner { about, .. } => {
            Some(about)
        }
        Mail::Confirm { .. }
        | Mail::Manage { .. }
        | Mail::SignIn { .. }
        | Mail::Digest { .. }
        | Mail::OwnerDigest { .. } => None,
    }
}

/// The button of a moderation link.
pub fn action_label(t: &MailTexts, action: ModAction) -> &str {
    match action {
        ModAction::Approve => &t.approve,
        ModAction::Delete => &t.delete,
        ModAction::Spam => &t.spam,
        ModAction::Ban => &t.ban,
    }
}

/// Opening and closing double quotation marks of the languages kith speaks (`“` opens in
/// English but closes in German: it closes when a quote is open).
const OPENING: [char; 5] = ['“', '„', '«', '「', '『'];
const CLOSING: [char; 4] = ['”', '»', '」', '』'];

fn is_quote(c: char) -> bool {
    c == '"' || OPENING.contains(&c) || CLOSING.contains(&c)
}

/// A title as it goes between the language's quotation marks: one pair of quotes around the
/// whole title is dropped, and the quotes inside become the language's inner quotes, so a
/// subject never nests the same marks (`New comment on “Why ‘less’ is more”`).
pub fn quote_safe(t: &MailTexts, title: &str) -> String {
    let title = title.trim();
    let mut chars = title.chars();
    let (first, last) = (chars.next(), chars.next_back());
    let enclosed = match (first, last) {
        (Some(a), Some(b)) => {
            let pair = (a == '"' && b == '"')
                || (a == '\'' && b == '\'')
                || ((OPENING.contains(&a) || a == '‘' || a == '‚')
                    && (CLOSING.contains(&b) || b == '“' || b == '’' || b == '‘'));
            pair && !chars.as_str().chars().any(is_quote)
        }
        _ => false,
    };
    let inner = if enclosed { chars.as_str() } else { title };
    if inner.is_empty() {
        return title.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    // `"` and `“` open or close depending on whether a quote is open.
    let mut inside = false;
    for c in inner.chars() {
        let opens = match c {
            '"' | '“' => Some(!inside),
            c if OPENING.contains(&c) => Some(true),
            c if CLOSING.contains(&c) => Some(false),
            _ => None,
        };
        match opens {
            Some(true) => out.push_str(&t.inner_quote_open),
            Some(false) => out.push_str(&t.inner_quote_close),
            None => out.push(c),
        }
        if let Some(opens) = opens {
            inside = opens;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::notify::texts::Locales;
    use crate::render::Renderer;

    fn about(title: &str) -> About {
        About {
            comment: Quoted {
                author: "Bob".into(),
                text: "Hi".into(),
                html: Renderer::new().markdown("Hi"),
            },
            title: title.into(),
            url: Some("https://blog.example/p/#comment-2".into()),
        }
    }

    const SENDER: Sender<'static> = Sender {
        site_name: "Ann's Blog",
        language: "en",
        link_days: 7,
    };

    fn subject(lang: &str, title: &str) -> String {
        let locales = Locales::load().unwrap();
        let sender = Sender {
            language: lang,
            ..SENDER
        };
        let mail = Mail::Thread {
            about: about(title),
            unsubscribe_thread_url: "u".into(),
        };
        compose(&locales.get(lang).mail, &sender, mail).subject
    }

    #[test]
    fn subjects_do_not_nest_quotation_marks() {
        assert_eq!(subject("en", "Plain"), "New comment on “Plain”");
        assert_eq!(subject("en", "“Quoted”"), "New comment on “Quoted”");
        assert_eq!(subject("en", "\"Quoted\""), "New comment on “Quoted”");
        assert_eq!(
            subject("en", "Why \"less\" is “more”"),
            "New comment on “Why ‘less’ is ‘more’”"
        );
        assert_eq!(
            subject("de", "Das „beste“ Buch"),
            "Neuer Kommentar zu „Das ‚beste‘ Buch“"
        );
        assert_eq!(
            subject("fr", "Le « meilleur » livre"),
            "Nouveau commentaire sur « Le “ meilleur ” livre »"
        );
        assert_eq!(
            subject("ja", "「本」の話"),
            "「『本』の話」に新しいコメント"
        );
        assert_eq!(
            subject("en", "“Foo” and “Bar”"),
            "New comment on “‘Foo’ and ‘Bar’”"
        );
        // Apostrophes are not quotation marks.
        assert_eq!(subject("en", "Ann's post"), "New comment on “Ann's post”");
    }

    #[test]
    fn the_owner_mail_lists_facts_and_labels_its_links() {
        let locales = Locales::load().unwrap();
        let view = compose(
            &locales.get("en").mail,
            &SENDER,
            Mail::Owner {
                about: about("A post"),
                page: "/p/".into(),
                held: true,
                website: Some("https://bob.example".into()),
                held_reason: Some("links".into()),
                actions: vec![
                    (ModAction::Approve, "a".into()),
                    (ModAction::Ban, "b".into()),
                ],
            },
        );
        assert_eq!(
            view.subject,
            "Held for moderation: comment on “A post” by Bob"
        );
        let labels: Vec<&str> = view.facts.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["Page", "Website", "Status", "Why held"]);
        assert_eq!(view.facts[0].1, "https://blog.example/p/#comment-2");
        assert_eq!(
            view.actions,
            [
                ("Approve".to_string(), "a".to_string()),
                ("Ban the author".to_string(), "b".to_string())
            ]
        );
        assert!(view.unsubscribe.is_none());
        assert!(view.footer.contains("7 days"));
    }

    #[test]
    fn the_confirmation_offers_one_button_and_an_unsubscribe_from_everything() {
        let locales = Locales::load().unwrap();
        let view = compose(
            &locales.get("en").mail,
            &SENDER,
            Mail::Confirm {
                confirm_url: "c".into(),
                unsubscribe_all_url: "u".into(),
            },
        );
        assert_eq!(view.subject, "Please confirm notifications from Ann's Blog");
        assert_eq!(view.actions.len(), 1);
        assert_eq!(
            view.unsubscribe,
            Some((
                "Stop all mails from Ann's Blog".to_string(),
                "u".to_string()
            ))
        );
        assert!(view.comment.is_none());
    }
}
