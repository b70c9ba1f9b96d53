package org.cloudviper.scheduler.state;

/**
 * Where the state machine's messages go. The server's implementation batches them per connection;
 * tests record them. Called only from the thread that owns the state.
 */
public interface Outbox {
    void toWorker(String address, ToWorker message);

    void toClient(String client, ToClient message);
}
