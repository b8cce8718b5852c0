use std::sync::Arc;

use actix_web::http::header::ContentEncoding;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::views::CommentResponse;
use crate::config::FieldLimits;
use crate::db::DbConn;
use crate::domain::avatar::AvatarSource;
use crate::domain::comment::{ClientInfo, CommentId, NewComment, PowAnswer, Signals};
use crate::domain::fields::{AuthorName, CommentBody, Email, Website};
use crate::domain::reader::Reader;
use crate::domain::site::Site;
use crate::domain::thread::{ThreadKey, ThreadMeta};
use crate::error::{AppError, ErrorKind};
use crate::http::client::{Client, rate_limit};
use crate::http::reader::MaybeReader;
use crate::render::SafeHtml;
use crate::service::comments::AuthorProof;
use crate::service::{self, comments, reactions, reads, sites};
use crate::spam::limiter::Action;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateCommentRequest {
    thread_key: String,
    thread_title: Option<String>,
    thread_url: Option<String>,
    parent_id: Option<i64>,
    #[serde(default)]
    author: String,
    email: Option<String>,
    website: Option<String>,
    body: String,
    #[serde(default)]
    notify_replies: bool,
    #[serde(default)]
    notify_thread: bool,
    /// The honeypot field (people leave it empty).
    hp: Option<String>,
    form_token: Option<String>,
    #[schema(nullable = false)]
    pow: Option<PowAnswer>,
}

impl CreateCommentRequest {
    /// The comment, every field parsed. A signed-in reader's name and address come from their
    /// sign-in, whatever the form sent (the embed shows them locked).
    fn parse(
        self,
        site: &Site,
        limits: &FieldLimits,
        reader: Option<&Reader>,
    ) -> Result<NewComment, AppError> {
        let settings = &site.settings;
        let (author, email) = match reader {
            Some(reader) => (
                AuthorName::parse(
                    reader.display_name.chars().take(limits.author).collect(),
                    limits.author,
                    false,
                )?,
                reader
                    .email
                    .clone()
                    .and_then(|e| Email::parse(e, limits.email).ok()),
            ),
            None => (
                AuthorName::parse(self.author, limits.author, settings.require_name)?,
                Email::parse_optional(self.email, limits.email, settings.require_email)?,
            ),
        };
        Ok(NewComment {
            thread_key: ThreadKey::parse(&self.thread_key, limits.thread_key)?,
            thread_meta: ThreadMeta::parse(
                self.thread_title,
                self.thread_url,
                limits.thread_title,
                limits.thread_url,
            )?,
            parent_id: self.parent_id.map(CommentId),
            author,
            email,
            website: Website::parse_optional(self.website, limits.website)?,
            body: CommentBody::parse(self.body, limits.body)?,
            notify_replies: self.notify_replies,
            notify_thread: self.notify_thread,
            signals: Signals {
                honeypot: self.hp,
                form_token: self.form_token,
                pow: self.pow,
            },
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedResponse {
    comment: CommentResponse,
    edit_token: String,
    editable_until: DateTime<Utc>,
    /// Send this back as `fresh=` on thread reads for a few seconds (see docs/performance.md):
    /// they then come from the primary database, so the new comment is there even when a read
    /// replica lags.
    read_marker: String,
}

/// `POST /api/v1/sites/{site}/comments`
#[utoipa::path(post, path = "/api/v1/sites/{site}/comments", tag = "comments",
    params(("site" = String, Path, description = "The site's slug")), request_body = CreateCommentRequest,
    responses((status = 201, description = "Posted (published, held for review or kept as spam)",
        body = CreatedResponse)))]
pub async fn create_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    MaybeReader(session): MaybeReader,
    body: web::Json<CreateCommentRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Post, &client).await?;
    let request = body.into_inner();
    let reader = session.map(|s| s.reader);
    // Parsing and rendering a short comment takes microseconds: done here when the site is
    // cached, without a hop to the blocking pool; a long one, or a site to read first, goes
    // there (the site with a connection).
    let (submission, avatars) = match sites::cached(&state, &slug) {
        Some(site) if request.body.len() <= RENDER_INLINE_BYTES => {
            prepare_post(&state, site, request, client, reader)?
        }
        Some(site) => {
            service::compute(&state, move |state| {
                prepare_post(state, site, request, client, reader)
            })
            .await?
        }
        None => {
            service::blocking(&state, move |state, conn| {
                let site = sites::find(state, conn, &slug)?;
                prepare_post(state, site, request, client, reader)
            })
            .await?
        }
    };
    let posted = comments::post_submitted(&state, submission).await?;
    state.metrics.comment_posted(posted.comment.status);
    let posted = CreatedResponse {
        comment: CommentResponse::from_comment(posted.comment, &state.keys, avatars),
        edit_token: posted.edit_token,
        editable_until: posted.editable_until,
        read_marker: reads::issue_marker(&state, service::now()),
    };
    // About a kilobyte, read once: compressing it (a brotli encoder of its own, on the
    // blocking pool, for what passes actix's in-place limit) costs more than the bytes saved.
    Ok(HttpResponse::Created()
        .insert_header(ContentEncoding::Identity)
        .json(posted))
}

/// The longest comment (in bytes of markdown) rendered on the request's own thread rather than
/// on the blocking pool: a few tens of microseconds of work.
const RENDER_INLINE_BYTES: usize = 2_000;

/// A post's CPU work before its transaction: the sign-in rule, parsing, rendering, the token.
fn prepare_post(
    state: &AppState,
    site: Arc<Site>,
    request: CreateCommentRequest,
    client: ClientInfo,
    reader: Option<Reader>,
) -> Result<(comments::Submission, AvatarSource), AppError> {
    if reader.is_none() && !site.settings.anonymous_allowed {
        return Err(comments::sign_in_required());
    }
    let new = request.parse(&site, &state.config.limits, reader.as_ref())?;
    let avatars = site.settings.avatars;
    Ok((
        comments::prepare(state, site, new, client, reader)?,
        avatars,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateCommentRequest {
    body: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpdatedResponse {
    comment: CommentResponse,
    editable_until: DateTime<Utc>,
    /// As in [`CreatedResponse`]: `fresh=` on thread reads shows the edit at once.
    read_marker: String,
}

/// The comment's edit token, as returned when it was posted.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents the header; edit_token() reads it")]
struct EditTokenHeader {
    #[param(rename = "X-Edit-Token")]
    x_edit_token: String,
}

/// Who claims to be the author: the `X-Edit-Token` header, else the signed-in reader.
enum Proof {
    EditToken(String),
    Reader(Box<Reader>),
}

impl Proof {
    fn of(req: &HttpRequest, reader: MaybeReader) -> Result<Self, AppError> {
        let token = req
            .headers()
            .get("x-edit-token")
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        match (token, reader.0) {
            (Some(token), _) => Ok(Self::EditToken(token)),
            (None, Some(session)) => Ok(Self::Reader(Box::new(session.reader))),
            (None, None) => Err(AppError::new(
                ErrorKind::InvalidEditToken,
                "send the X-Edit-Token header, or sign in",
            )),
        }
    }

    fn as_author(&self) -> AuthorProof<'_> {
        match self {
            Self::EditToken(token) => AuthorProof::EditToken(token),
            Self::Reader(reader) => AuthorProof::Reader(reader),
        }
    }
}

/// The common steps of the author's own routes (edit, source, delete): rate limited as an edit,
/// the author's proof read from the request, then the work done on the comment in its site.
struct OwnComment {
    slug: String,
    id: CommentId,
    proof: Proof,
}

impl OwnComment {
    async fn check(
        state: &AppState,
        req: &HttpRequest,
        client: &ClientInfo,
        reader: MaybeReader,
        path: web::Path<(String, i64)>,
    ) -> Result<Self, AppError> {
        let (slug, id) = path.into_inner();
        rate_limit(state, Action::Edit, client).await?;
        let proof = Proof::of(req, reader)?;
        Ok(Self {
            slug,
            id: CommentId(id),
            proof,
        })
    }

    /// Runs `op` in the blocking pool with the comment's site, its id and the author's proof.
    async fn run<T, F>(self, state: &AppState, op: F) -> Result<T, AppError>
    where
        F: FnOnce(&AppState, &mut DbConn, &Site, CommentId, AuthorProof<'_>) -> Result<T, AppError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        service::blocking(state, move |state, conn| {
            let site = sites::find(state, conn, &self.slug)?;
            op(state, conn, &site, self.id, self.proof.as_author())
        })
        .await
    }
}

/// `PATCH /api/v1/sites/{site}/comments/{id}` with header `X-Edit-Token`.
#[utoipa::path(patch, path = "/api/v1/sites/{site}/comments/{id}", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"), EditTokenHeader), request_body = UpdateCommentRequest,
    responses((status = 200, description = "Edited", body = UpdatedResponse)))]
pub async fn update_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    Client(client): Client,
    reader: MaybeReader,
    path: web::Path<(String, i64)>,
    body: web::Json<UpdateCommentRequest>,
) -> Result<HttpResponse, AppError> {
    let own = OwnComment::check(&state, &req, &client, reader, path).await?;
    let body = CommentBody::parse(body.into_inner().body, state.config.limits.body)?;
    let updated = own
        .run(&state, move |state, conn, site, id, author| {
            let (comment, until) = comments::edit(state, conn, site, id, author, &body)?;
            let mut comment =
                CommentResponse::from_comment(comment, &state.keys, site.settings.avatars);
            comment.reactions = reactions::counts_of(conn, site, id)?;
            Ok(UpdatedResponse {
                comment,
                editable_until: until,
                read_marker: reads::issue_marker(state, service::now()),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceResponse {
    /// The comment's markdown source, as its author wrote it.
    body: String,
}

/// `GET /api/v1/sites/{site}/comments/{id}`: one published comment, as thread pages show it.
#[utoipa::path(get, path = "/api/v1/sites/{site}/comments/{id}", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id")),
    responses((status = 200, description = "The comment as thread pages show it, without its \
        replies (`parent_id` says where it goes): what the embed fetches when the thread's live \
        stream announces a comment. Read from the primary database, which announced it", body = CommentResponse),
        (status = 404, description = "No published comment with this id in this site \
        (`comment_not_found`): held, spam and deleted comments are never shown")))]
pub async fn get_comment(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    // From the primary: the announcement left it at commit, a replica may not have the comment
    // yet.
    let (comment, avatars, reactions) =
        reads::read(&state, reads::ReadFrom::Primary, move |state, conn| {
            let site = sites::find(state, conn, &slug)?;
            let comment = service::threads::published(conn, &site, CommentId(id))?;
            let counts = reactions::counts_of(conn, &site, CommentId(id))?;
            Ok((
                comment,
                site.settings.avatars,
                std::collections::HashMap::from([(CommentId(id), counts)]),
            ))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(CommentResponse::from_node(
            crate::domain::tree::Node {
                comment,
                replies: Vec::new(),
            },
            &state.keys,
            avatars,
            &reactions,
        )))
}

/// `GET /api/v1/sites/{site}/comments/{id}/source` with header `X-Edit-Token`: the markdown
/// source for the author's edit form (thread pages carry only the HTML).
#[utoipa::path(get, path = "/api/v1/sites/{site}/comments/{id}/source", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"), EditTokenHeader),
    responses((status = 200, description = "The comment's markdown source (never cached)", body = SourceResponse)))]
pub async fn get_comment_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    Client(client): Client,
    reader: MaybeReader,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let body = OwnComment::check(&state, &req, &client, reader, path)
        .await?
        .run(&state, |_, conn, site, id, author| {
            comments::source(conn, site, id, author)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(SourceResponse { body }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedResponse {
    deleted: bool,
    /// As in [`CreatedResponse`]: `fresh=` on thread reads shows the deletion at once.
    read_marker: String,
}

/// `DELETE /api/v1/sites/{site}/comments/{id}` with header `X-Edit-Token`.
#[utoipa::path(delete, path = "/api/v1/sites/{site}/comments/{id}", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"), EditTokenHeader),
    responses((status = 200, description = "Deleted", body = DeletedResponse)))]
pub async fn delete_comment(
    state: web::Data<AppState>,
    req: HttpRequest,
    Client(client): Client,
    reader: MaybeReader,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    OwnComment::check(&state, &req, &client, reader, path)
        .await?
        .run(&state, comments::delete)
        .await?;
    Ok(HttpResponse::Ok().json(DeletedResponse {
        deleted: true,
        read_marker: reads::issue_marker(&state, service::now()),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PreviewRequest {
    body: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewResponse {
    #[schema(value_type = String)]
    html: SafeHtml,
}

/// `POST /api/v1/sites/{site}/preview`
#[utoipa::path(post, path = "/api/v1/sites/{site}/preview", tag = "comments",
    params(("site" = String, Path, description = "The site's slug")), request_body = PreviewRequest,
    responses((status = 200, description = "The body rendered and sanitized", body = PreviewResponse)))]
pub async fn preview_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Json<PreviewRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Preview, &client).await?;
    let body = CommentBody::parse(body.into_inner().body, state.config.limits.body)?;
    let html = service::blocking(&state, move |state, conn| {
        sites::find(state, conn, &slug)?;
        Ok(state.renderer.markdown(body.as_str()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(PreviewResponse { html }))
}
