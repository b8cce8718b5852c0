//! The SQLite post writer: new comments go through one queue, and its thread commits the posts
//! waiting at the same time in ONE write transaction (`db::changes::write_batch`), each in its
//! own savepoint, so that one failing post (a duplicate, a thread closed meanwhile) fails alone
//! with its own error while the others commit. Each request is answered after the commit (and
//! after the change bus announced the batch), so an acknowledged comment is durable.
//!
//! Why: SQLite has one writer at a time. Requests that each open a write transaction wait for
//! one another in SQLite's busy handler, which sleeps between tries; one thread that takes
//! whatever is waiting and commits it at once does not wait at all, and pays one commit for
//! many posts. PostgreSQL takes concurrent writers as they come: there each post keeps its
//! own transaction (and several processes may share the database).
//!
//! No global state: the queue lives in `AppState::posts`. The thread holds only the receiving
//! end; a job carries the state it runs with, so the thread ends once the application (every
//! clone of its state) is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::comments::{Submission, store};
use crate::db::changes::{BatchJob, write_batch};
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
}

impl std::fmt::Debug for PostWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostWriter")
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl PostWriter {
    /// Starts the writer thread; it commits at most `max_batch` posts per transaction.
    pub fn start(max_batch: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let stats = Arc::new(Stats::default());
        let counted = stats.clone();
        std::thread::Builder::new()
            .name("kith-post-writer".into())
            .spawn(move || run(&queue, &counted, max_batch.max(1)))?;
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
}

fn stopped() -> AppError {
    AppError::internal(anyhow::anyhow!("the post writer stopped"))
}

/// Takes whatever is waiting (at most `max_batch`), commits it, answers, and again, until
/// every sender is gone.
fn run(queue: &mpsc::Receiver<Job>, stats: &Stats, max_batch: usize) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        stats.waiting.fetch_sub(jobs.len(), Ordering::Relaxed);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.largest.fetch_max(jobs.len(), Ordering::Relaxed);
        let results = commit(&jobs);
        for (job, result) in jobs.into_iter().zip(results) {
            // A request that gave up no longer listens; its comment is stored all the same.
            let _ = job.reply.send(result);
        }
    }
}

/// One transaction for `jobs`; one result per job, in order.
fn commit(jobs: &[Job]) -> Vec<Result<Comment, AppError>> {
    let Some(state) = jobs.first().map(|job| &job.state) else {
        return Vec::new();
    };
    let batch = crate::service::conn(state).and_then(|mut conn| {
        let work: Vec<BatchJob<'_, Comment>> = jobs
            .iter()
            .map(|job| {
                let work: BatchJob<'_, Comment> = Box::new(move |conn, changes| {
                    store(&job.state, conn, changes, &job.submission)
                });
                work
            })
            .collect();
        write_batch(&mut conn, &state.changes, work)
    });
    match batch {
        Ok(results) => results,
        // Nothing was stored: every post gets the error (the first its cause).
        Err(e) => {
            let (kind, message) = (e.kind, e.message.clone());
            std::iter::once(Err(e))
                .chain((1..jobs.len()).map(|_| Err(AppError::new(kind, message.clone()))))
                .collect()
        }
    }
}
