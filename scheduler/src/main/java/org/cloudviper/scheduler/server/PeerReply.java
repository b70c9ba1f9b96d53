package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.scheduler.state.coordination.Reply;

import java.util.function.Consumer;

/**
 * A request's answer on its connection, at most once: what the coordination primitives hold while
 * a request waits. Errors reach the peer as Dask's error_message with a pickled builtins exception,
 * which the Python peer raises as that type.
 */
final class PeerReply implements Reply {
    private final Peer peer;
    private final Consumer<Object> reply;
    private boolean answered;

    PeerReply(Peer peer, Consumer<Object> reply) {
        this.peer = peer;
        this.reply = reply;
    }

    @Override
    public void send(Object value) {
        if (!answered) {
            answered = true;
            reply.accept(value);
        }
    }

    @Override
    public void fail(String pythonType, String text) {
        send(error(pythonType, text));
    }

    @Override
    public boolean isOpen() {
        return !answered && peer.channel.isActive();
    }

    /** Dask's error reply raising {@code pythonType(text)} (a builtins exception) on the Python peer. */
    static Object error(String pythonType, String text) {
        return new Rpc.Error(Pickles.call("builtins", pythonType, text), pythonType + ": " + text)
                .encode(Generation.DASK_2022);
    }
}
