//! The layout every mail is rendered with: the built-in one, or the `mail.templates_dir`
//! folder's, chosen and read once at start (never from disk while a mail is queued).

use std::path::Path;

use super::overrides::FolderTemplates;
use super::templates;
use super::view::{MailView, Rendered};

/// How mails look.
#[derive(Debug, Clone)]
pub enum MailLayout {
    BuiltIn,
    Folder(FolderTemplates),
}

impl MailLayout {
    /// The folder's templates when `templates_dir` is set and holds them; otherwise the built-in
    /// layout (a set folder without both files is logged, as it is probably a mistake).
    pub fn load(templates_dir: &str) -> Result<Self, String> {
        if templates_dir.trim().is_empty() {
            return Ok(Self::BuiltIn);
        }
        match FolderTemplates::load(Path::new(templates_dir))? {
            Some(folder) => Ok(Self::Folder(folder)),
            None => {
                tracing::warn!(
                    folder = templates_dir,
                    "mail.templates_dir has no message.txt and message.html; using the built-in mail layout"
                );
                Ok(Self::BuiltIn)
            }
        }
    }

    pub fn render(&self, view: &MailView) -> Result<Rendered, String> {
        match self {
            Self::BuiltIn => templates::render(view),
            Self::Folder(folder) => folder.render(view),
        }
    }
}
