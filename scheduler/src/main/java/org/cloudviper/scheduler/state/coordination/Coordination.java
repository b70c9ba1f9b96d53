package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.scheduler.state.Outbox;

/**
 * Dask's coordination primitives beside the scheduler's state machine: Variable, Queue, Lock (2022),
 * MultiLock, Semaphore (and 2024's Lock), Event and Pub/Sub. Pure like the state
 * machine: requests come in with the time and a {@link Reply}, messages leave through the
 * {@link Outbox}, keys are held through {@link Keys}; the server runs it on the state's thread and
 * calls {@link #expire} when a timeout or a lease may have run out.
 */
public final class Coordination {
    private final Variables variables;
    private final Queues queues;
    private final Locks locks = new Locks();
    private final MultiLocks multiLocks = new MultiLocks();
    private final Semaphores semaphores;
    private final Events events = new Events();
    private final PubSub pubSub;

    /**
     * @param defaultLeaseTimeout seconds a semaphore lease of a 2022 client lives without a refresh
     *                            (2024 clients send their own)
     */
    public Coordination(Keys keys, Outbox out, double defaultLeaseTimeout) {
        this.variables = new Variables(keys);
        this.queues = new Queues(keys);
        this.semaphores = new Semaphores(defaultLeaseTimeout);
        this.pubSub = new PubSub(out);
    }

    public Variables variables() {
        return variables;
    }

    public Queues queues() {
        return queues;
    }

    public Locks locks() {
        return locks;
    }

    public MultiLocks multiLocks() {
        return multiLocks;
    }

    public Semaphores semaphores() {
        return semaphores;
    }

    public Events events() {
        return events;
    }

    public PubSub pubSub() {
        return pubSub;
    }

    /** Requests whose timeout passed are answered; semaphore leases not refreshed in time lapse. */
    public void expire(double now) {
        variables.expire(now);
        queues.expire(now);
        locks.expire(now);
        multiLocks.expire(now);
        semaphores.expire(now);
        events.expire(now);
    }

    /** A client left (its stream closed or it said close-client). */
    public void clientRemoved(String client, double now) {
        variables.clientRemoved(client, now);
        pubSub.clientRemoved(client);
    }

    /** A worker left. */
    public void workerRemoved(String worker) {
        pubSub.workerRemoved(worker);
    }
}
