//! The post writer: new comments go through one queue, and a writer thread commits the posts
//! waiting at the same time in ONE write transaction (`db::changes::write_batch`); when one
//! post fails (a duplicate, a thread closed meanwhile) the batch runs again with each post in a
//! savepoint of its own, so that it fails alone with its own error while the others commit. Each request is answered after the commit (and
//! after the change bus announced the batch), so an acknowledged comment is durable.
//!
//! Why: one commit (one fsync, one WAL flush) for many posts, and what the posts read alike
//! (bans, webhook endpoints) read once. SQLite has one writer at a time: one writer thread,
//! which never waits in SQLite's busy handler. PostgreSQL has several writer threads side by side
//! (`database.post_writers`). A batch stores its posts in (site, thread key) order, so batches
//! create and lock threads in one order and cannot deadlock doing so; they add to the threads'
//! counters at their end in thread id order, so those row locks are short. A batch that fails
//! as a whole all the same is stored post by post, and a post PostgreSQL refused only for a
//! deadlock or a serialization conflict is tried again ([`CONFLICT_TRIES`]).
//!
//! No global state: the queue lives in `AppState::posts`. The thread holds only the receiving
//! end; a job carries the state it runs with, so the thread ends once the application (every
//! clone of its state) is gone.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use super::comments::{Shared, Submission, store, store_one};
use crate::db::changes::{BatchJob, write_batch, write_tx};
use crate::domain::comment::Comment;
use crate::error::AppError;
use crate::state::AppState;

struct Job {
    state: AppState,
    submission: Arc<Submission>,
    reply: oneshot::Sender<Result<Comment, AppError>>,
}

/// The sending end of the queue, with what it has done so far.
#[derive(Clone)]
pub struct PostWriter {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    waiting: AtomicUsize,
    batches: AtomicUsize,
    largest: AtomicUsize,
    failed: AtomicUsize,
    posts: AtomicUsize,
}

impl std::fmt::Debug for PostWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostWriter")
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl PostWriter {
    /// Starts `writers` writer threads (at least one) taking from one queue; each commits at
    /// most `max_batch` posts per transaction. While one commits, the next takes what queued
    /// meanwhile.
    pub fn start(max_batch: usize, writers: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let queue = Arc::new(Mutex::new(queue));
        let stats = Arc::new(Stats::default());
        for _ in 0..writers.max(1) {
            let (queue, counted) = (queue.clone(), stats.clone());
            std::thread::Builder::new()
                .name("kith-post-writer".into())
                .spawn(move || run(&queue, &counted, max_batch.max(1)))?;
        }
        Ok(Self { jobs, stats })
    }

    /// Queues a post and waits (without holding a thread or a connection) for its commit.
    pub async fn submit(
        &self,
        state: &AppState,
        submission: Arc<Submission>,
    ) -> Result<Comment, AppError> {
        let (reply, answer) = oneshot::channel();
        self.stats.waiting.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            state: state.clone(),
            submission,
            reply,
        };
        if self.jobs.send(job).is_err() {
            self.stats.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(stopped());
        }
        answer.await.map_err(|_| stopped())?
    }

    /// Posts queued and not yet taken into a transaction.
    pub fn waiting(&self) -> usize {
        self.stats.waiting.load(Ordering::Relaxed)
    }

    /// Transactions committed (or tried) so far, and the most posts one of them held.
    pub fn batches(&self) -> (usize, usize) {
        (
            self.stats.batches.load(Ordering::Relaxed),
            self.stats.largest.load(Ordering::Relaxed),
        )
    }

    /// Batches of several posts that failed as a whole (each post then stored alone).
    pub fn failed_batches(&self) -> usize {
        self.stats.failed.load(Ordering::Relaxed)
    }

    /// Posts taken into a transaction so far (divided by the batches: their average size).
    pub fn posts_taken(&self) -> usize {
        self.stats.posts.load(Ordering::Relaxed)
    }
}

fn stopped() -> AppError {
    AppError::internal(anyhow::anyhow!("the post writer stopped"))
}

/// Takes whatever is waiting (at most `max_batch`), commits it, answers, and again, until
/// every sender is gone.
fn run(queue: &Mutex<mpsc::Receiver<Job>>, stats: &Stats, max_batch: usize) {
    while let Some(mut jobs) = take(queue, max_batch) {
        stats.waiting.fetch_sub(jobs.len(), Ordering::Relaxed);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.largest.fetch_max(jobs.len(), Ordering::Relaxed);
        stats.posts.fetch_add(jobs.len(), Ordering::Relaxed);
        jobs.sort_by(|a, b| {
            a.submission
                .thread_order()
                .cmp(&b.submission.thread_order())
        });
        let results = commit(&jobs, stats);
        for (job, result) in jobs.into_iter().zip(results) {
            // A request that gave up no longer listens; its comment is stored all the same.
            let _ = job.reply.send(result);
        }
    }
}

/// The next batch: waits for a first job, then takes what else is waiting. `None` once every
/// sender is gone (or another writer panicked holding the queue).
fn take(queue: &Mutex<mpsc::Receiver<Job>>, max_batch: usize) -> Option<Vec<Job>> {
    let queue = queue.lock().ok()?;
    let mut jobs = vec![queue.recv().ok()?];
    while jobs.len() < max_batch {
        match queue.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    Some(jobs)
}

/// One transaction for `jobs`; one result per job, in order.
fn commit(jobs: &[Job], stats: &Stats) -> Vec<Result<Comment, AppError>> {
    let Some(state) = jobs.first().map(|job| &job.state) else {
        return Vec::new();
    };
    let mut conn = match crate::service::conn(state) {
        Ok(conn) => conn,
        // No connection (the database is down, or every connection busy past the wait):
        // every post gets the error at once, none waits again.
        Err(e) => return every(e, jobs.len()),
    };
    let shared = RefCell::new(Shared::default());
    let work: Vec<BatchJob<'_, Comment>> = jobs
        .iter()
        .map(|job| {
            let shared = &shared;
            let work: BatchJob<'_, Comment> = Box::new(move |conn, changes| {
                let mut shared = shared.borrow_mut();
                let comment = store(&job.state, conn, changes, &mut shared, &job.submission)?;
                shared.kept(&comment);
                Ok(comment)
            });
            work
        })
        .collect();
    let batch = write_batch(
        &mut conn,
        &state.changes,
        &work,
        || {
            shared.take();
        },
        |conn| shared.take().finish(conn),
    );
    match batch {
        Ok(results) => results,
        // Nothing was stored. Each post again in a transaction of its own on the same
        // connection (no wait for another), so that what failed the batch (on PostgreSQL a
        // deadlock with another writer's batch, which rolls back the whole transaction) fails
        // one post at most.
        Err(e) => {
            if jobs.len() > 1 {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, posts = jobs.len(), "a batch of posts failed; storing each alone");
            } else if !e.is_transient_conflict() {
                return vec![Err(e)];
            }
            jobs.iter().map(|job| alone(&mut conn, job)).collect()
        }
    }
}

/// One post in a transaction of its own, tried again (at most [`CONFLICT_TRIES`] times in
/// all) while PostgreSQL refuses it only for a conflict with another transaction.
fn alone(conn: &mut crate::db::DbConn, job: &Job) -> Result<Comment, AppError> {
    let mut tries = 1;
    loop {
        let stored = write_tx(conn, &job.state.changes, |conn, changes| {
            store_one(&job.state, conn, changes, &job.submission)
        });
        match stored {
            Err(e) if e.is_transient_conflict() && tries < CONFLICT_TRIES => tries += 1,
            stored => return stored,
        }
    }
}

/// How many times a post is tried in a transaction of its own when the database refuses it
/// for a conflict with another transaction (a deadlock): the other one went on, so the next
/// try meets it committed.
const CONFLICT_TRIES: u32 = 3;

/// `e` for each of `n` posts (the first gets `e` itself, with its cause).
fn every(e: AppError, n: usize) -> Vec<Result<Comment, AppError>> {
    let (kind, message) = (e.kind, e.message.clone());
    std::iter::once(Err(e))
        .chain((1..n).map(|_| Err(AppError::new(kind, message.clone()))))
        .collect()
}
