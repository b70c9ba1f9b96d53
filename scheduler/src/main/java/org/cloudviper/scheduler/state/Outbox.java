package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;

/**
 * Where the state machine's messages go. The server's implementation batches them per connection;
 * tests record them. Called only from the thread that owns the state.
 */
public interface Outbox {
    void toWorker(String address, SchedulerToWorker message);

    void toClient(String client, SchedulerToClient message);
}
