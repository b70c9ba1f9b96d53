package org.cloudviper.scheduler.state;

/** A client (or a published dataset, which wants its keys like a client). */
final class ClientState {
    final String id;
    final TaskSet wants = new TaskSet();

    ClientState(String id) {
        this.id = id;
    }

    @Override
    public String toString() {
        return "<Client " + id + " wants=" + wants.size() + ">";
    }
}
