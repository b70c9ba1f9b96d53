package org.cloudviper.scheduler.state;

import java.util.HashSet;
import java.util.Set;

/** A client (or a published dataset, which wants its keys like a client). */
final class ClientState {
    final String id;
    final Set<TaskState> wants = new HashSet<>();

    ClientState(String id) {
        this.id = id;
    }

    @Override
    public String toString() {
        return "<Client " + id + " wants=" + wants.size() + ">";
    }
}
