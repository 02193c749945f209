// NAME
//   commit_group.cpp - several requests decided under one COMMIT (see commit_group.h)
#include "server/commit_group.h"

#include <algorithm>
#include <chrono>

#include "policy/held_effects.h"

namespace policyd {
namespace {

std::chrono::steady_clock::time_point deadline_of(const Job& job) {
    return job.arrived + std::chrono::seconds(job.config->request_timeout);
}

// As every request was decided before groups: its own statements, each
// committed, its conflicts retried while the connection would still take
// the answer.
void decide_alone(Job& job, const Pipeline& pipeline, db::Session& session, HeldEffects& held) {
    session.wait_for_locks(true);
    session.set_deadline(deadline_of(job));
    job.reply = pipeline.evaluate(*job.request, *job.config, session, job.fd, job.progress.get(),
                                  &held);
    pipeline.release(held);
}

// Decides the jobs inside one transaction and commits it; how it ended.
// Every job's effects are held, none released.
GroupEnd decide_in_one_transaction(std::vector<Job>& jobs, std::vector<HeldEffects>& held,
                                   const Pipeline& pipeline, db::Session& session) {
    // A conflict inside a transaction is not retried (the group is decided
    // again instead), so the deadline only bounds what follows.
    session.set_deadline(deadline_of(*std::min_element(
        jobs.begin(), jobs.end(),
        [](const Job& a, const Job& b) { return deadline_of(a) < deadline_of(b); })));
    // A row another transaction holds fails the group at once (error 1205):
    // waiting, it would hold its requests and its own locks behind that one.
    session.wait_for_locks(false);
    try {
        session.begin();
    } catch (const db::Error&) {
        return GroupEnd::DecidedAgain;
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        Job& job = jobs[i];
        // Answered by the loop while the group got to it: alone it would not
        // have been decided at all (worker_pool.cpp), so not here either.
        if (job.progress->answered) continue;
        job.reply = pipeline.evaluate(*job.request, *job.config, session, job.fd,
                                      job.progress.get(), &held[i]);
        // A failure the pipeline answered by FAILSAFE still leaves this
        // transaction without that request's write (or without any, after
        // a deadlock): no later request may be decided on top of it.
        if (session.transaction_failed()) {
            session.rollback();
            return GroupEnd::DecidedAgain;
        }
    }
    try {
        session.commit();
        return GroupEnd::Committed;
    } catch (const db::CommitUnknown&) {
        session.rollback();
        return GroupEnd::CommitUnknown;
    } catch (const db::Error&) {
        session.rollback();
        return GroupEnd::DecidedAgain;
    }
}

}  // namespace

std::vector<Job> decide_jobs(std::vector<Job>& jobs, const Pipeline& pipeline,
                             db::Session& session, Stats* stats) {
    std::vector<HeldEffects> held(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) held[i].rcpt_number = jobs[i].rcpt_number;
    if (jobs.size() == 1) {
        decide_alone(jobs.front(), pipeline, session, held.front());
        return {};
    }
    const GroupEnd end = decide_in_one_transaction(jobs, held, pipeline, session);
    if (stats) stats->commit_group(end, jobs.size());
    std::vector<Job> again;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        Job& job = jobs[i];
        // Answered by the loop meanwhile: nothing of it is left after a failed
        // group, and nothing needs delivering.
        if (end != GroupEnd::Committed && job.progress->answered) continue;
        switch (end) {
        case GroupEnd::Committed:  // its writes are in: its lines tell the truth
            pipeline.release(held[i]);
            break;
        case GroupEnd::DecidedAgain:  // its lines are dropped with held[i]
            job.rcpt_number = held[i].rcpt_number;
            job.reply.clear();
            again.push_back(std::move(job));
            break;
        case GroupEnd::CommitUnknown:
            held[i].drop();
            job.reply = pipeline.answer_without_database(*job.request, *job.config,
                                                         job.progress.get());
            break;
        }
    }
    if (end == GroupEnd::DecidedAgain) jobs.clear();  // all in `again`, or answered
    return again;
}

}  // namespace policyd
