//! The spam defences, in layers: proof of work and duplicates refuse a comment outright;
//! the honeypot, the form token and the learned spam score decide whether it is published,
//! held or filed as spam. Rate limits are applied by the handlers.

use chrono::{DateTime, Duration, Utc};

use crate::db::{self, DbConn};
use crate::domain::comment::{ClientInfo, Comment, NewComment};
use crate::domain::moderation::Verdict;
use crate::domain::site::{Site, SiteId};
use crate::error::{AppError, ErrorKind};
use crate::service::sites::PowChallenge;
use crate::spam::{bayes, duplicate, form_token, pow};
use crate::state::AppState;

/// How long a form token stays valid.
const FORM_TOKEN_MAX_AGE: std::time::Duration = form_token::DEFAULT_MAX_AGE;

/// A fresh signed form token for the site's comment form.
pub fn issue_form_token(state: &AppState, site: &Site, now: DateTime<Utc>) -> String {
    form_token::issue(&state.keys, site.id.0, now)
}

/// A proof-of-work challenge when the site asks for one.
pub fn issue_pow(state: &AppState, site: &Site, now: DateTime<Utc>) -> Option<PowChallenge> {
    let difficulty = site.settings.pow_difficulty;
    (difficulty > 0).then(|| PowChallenge {
        challenge: pow::issue_challenge(&state.keys, site.id.0, difficulty, now),
        difficulty,
    })
}

/// Checks that refuse a comment before anything is stored.
pub fn refuse(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    new: &NewComment,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if site.settings.pow_difficulty > 0 {
        let answer = new.signals.pow.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorKind::PowRequired,
                "this site asks for a proof of work; reload the page",
            )
        })?;
        let digest = pow::verify(
            &state.keys,
            site.id.0,
            &answer.challenge,
            &answer.nonce,
            now,
            pow::DEFAULT_MAX_AGE,
        )
        .map_err(|e| {
            AppError::new(
                ErrorKind::PowInvalid,
                format!("the proof of work is not valid: {e}"),
            )
        })?;
        if !db::spam::insert_used_pow(conn, digest.as_str(), digest.expires_at().naive_utc())? {
            return Err(AppError::new(
                ErrorKind::PowInvalid,
                "this proof of work was already used",
            ));
        }
    }
    let window = i64::from(site.settings.duplicate_window_secs);
    if window > 0
        && duplicate::normalize(new.body.as_str()).chars().count() >= duplicate::MIN_NORMALIZED_LEN
    {
        let email = new.email.as_ref().map(|e| e.normalized());
        if db::spam::has_recent_duplicate(
            conn,
            site.id,
            &duplicate::fingerprint(new.body.as_str()),
            &client.ip.to_string(),
            email.as_deref(),
            (now - Duration::seconds(window)).naive_utc(),
        )? {
            return Err(AppError::new(
                ErrorKind::DuplicateComment,
                "you already posted this comment",
            ));
        }
    }
    Ok(())
}

/// The fingerprint stored with a comment for duplicate detection.
pub fn fingerprint(new: &NewComment) -> String {
    duplicate::fingerprint(new.body.as_str())
}

/// Checks that decide where a comment goes.
/// `model_ready`: whether the site's spam score has learned enough to judge
/// (`db::spam::model_is_ready`); when it has not, its per-word counts are not read.
pub fn assess(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    new: &NewComment,
    now: DateTime<Utc>,
    model_ready: bool,
) -> Result<Verdict, AppError> {
    let settings = &site.settings;
    let mut verdict = Verdict::approve();
    if settings.honeypot
        && new
            .signals
            .honeypot
            .as_deref()
            .is_some_and(|v| !v.is_empty())
    {
        verdict = verdict.and(Verdict::spam("the hidden honeypot field was filled in"));
    }
    if settings.require_form_token {
        let min_age = std::time::Duration::from_secs(u64::from(settings.min_post_secs));
        let checked = match &new.signals.form_token {
            None => Err("sent without a form token".to_string()),
            Some(token) => form_token::verify(
                &state.keys,
                site.id.0,
                token,
                now,
                min_age,
                FORM_TOKEN_MAX_AGE,
            )
            .map_err(|e| format!("form token: {e}")),
        };
        if let Err(reason) = checked {
            verdict = verdict.and(Verdict::hold(reason));
        }
    }
    if !model_ready {
        return Ok(verdict);
    }
    let score = score(
        conn,
        site,
        new.body.as_str(),
        new.author.as_str(),
        new.email.as_ref().map(|e| e.as_str()),
        new.website.as_ref().map(|w| w.as_str()),
    )?;
    Ok(verdict.and(score))
}

/// The learned spam score's verdict on a comment's text: the part of [`assess`] that looks at
/// what was written, so an edit goes through it again.
pub fn score(
    conn: &mut DbConn,
    site: &Site,
    body: &str,
    author: &str,
    email: Option<&str>,
    website: Option<&str>,
) -> Result<Verdict, AppError> {
    let threshold = site.settings.spam_threshold_percent;
    if threshold == 0 {
        return Ok(Verdict::approve());
    }
    let features = bayes::features(body, author, email, website);
    let model = db::spam::find_model(conn, site.id, &features)?;
    let score = model.score(&features);
    if model.is_ready() && score * 100.0 >= f64::from(threshold) {
        return Ok(Verdict::hold(format!(
            "likely spam (score {:.0}%)",
            score * 100.0
        )));
    }
    Ok(Verdict::approve())
}

/// Teaches the site's spam score an admin's decision about a comment (`delta` -1 takes a
/// decision back).
pub fn learn(
    conn: &mut DbConn,
    comment: &Comment,
    is_spam: bool,
    delta: i64,
) -> Result<(), AppError> {
    let site = db::threads::find_by_id(conn, comment.thread_id)?
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "the comment's thread is gone"))?
        .site_id;
    let features = bayes::features(
        &comment.body_markdown,
        &comment.author,
        comment.email.as_deref(),
        comment.website.as_deref(),
    );
    learn_features(conn, site, features, is_spam, delta)
}

/// Teaches the spam score one document's features.
pub fn learn_features(
    conn: &mut DbConn,
    site: SiteId,
    mut features: Vec<String>,
    is_spam: bool,
    delta: i64,
) -> Result<(), AppError> {
    features.sort();
    features.dedup();
    db::spam::add_token_counts(conn, site, &features, is_spam, delta)
}
