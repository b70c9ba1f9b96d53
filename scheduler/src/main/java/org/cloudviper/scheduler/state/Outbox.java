package org.cloudviper.scheduler.state;

/**
 * Where the state machine's messages go. The server's implementation batches them per connection;
 * tests record them. Called only from the thread that owns the state.
 */
public interface Outbox {
    void toWorker(String address, ToWorker message);

    void toClient(String client, ToClient message);

    /**
     * A retire_workers request ended (see {@link SchedulerState#onRetireWorkers}). Called from inside
     * an event: the receiver must not call back into the state before the event returns.
     */
    default void retirementDone(RetirementOutcome outcome) {
        throw new UnsupportedOperationException("this outbox does not take retirement outcomes: " + outcome);
    }
}
