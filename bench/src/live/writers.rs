//! Concurrent writers, timed: each runs its own list of jobs, one at a time.

use std::future::Future;
use std::time::Instant;

use crate::stats::Round;
use crate::BenchError;

/// Runs each writer's jobs on its own task, all writers at once, timing each job and the
/// whole: one [`Round`]. The first failing job fails the round.
pub async fn run<J, F, Fut>(writers: Vec<Vec<J>>, job: F) -> Result<Round, BenchError>
where
    J: Send + 'static,
    F: Fn(J) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BenchError>> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for jobs in writers {
        let job = job.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(jobs.len());
            for j in jobs {
                let t = Instant::now();
                job(j).await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, BenchError>(latencies)
        }));
    }
    let mut round = Round::default();
    for t in tasks {
        let latencies = t.await.map_err(|e| BenchError::Report(format!("a writer panicked: {e}")))??;
        round.ops += latencies.len();
        round.latencies.extend(latencies);
    }
    round.elapsed = started.elapsed();
    Ok(round)
}
