package org.cloudviper.scheduler.state.coordination;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.CoordinationRequest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Data kept by a Variable or a Queue outlives the message that brought it: the primitive holds one
 * reference to its sub-objects (the message's owner releases its own) and gives it up when the
 * value is replaced, taken, times out or its queue closes. Nothing leaks, nothing is freed early.
 */
class StoredDataBuffersTest {
    private final Recorded.RecordedKeys keys = new Recorded.RecordedKeys();

    /** A received value as the dispatcher hands it: one reference, released after the handler. */
    private static SubObject received() {
        return new SubObject(SubObject.Kind.SERIALIZED, Unpooled.buffer(4).writeInt(1),
                List.of(Unpooled.buffer(8).writeLong(2)));
    }

    @Test
    void aVariableHoldsItsDataUntilReplaced() {
        Variables variables = new Variables(keys);
        SubObject first = received();
        variables.set(new CoordinationRequest.VariableSet("v", null, first, "c", null), new Recorded.Answer(), 0);
        MessageCodec.release(first); // the message is done with
        assertEquals(1, first.refCnt(), "the variable's reference");
        Recorded.Answer got = new Recorded.Answer();
        variables.get(new CoordinationRequest.VariableGet("v", "c", null), "c", got, 0);
        assertEquals(1, first.refCnt(), "a get writes the value; the variable keeps it");
        variables.set(new CoordinationRequest.VariableSet("v", null, 5L, "c", null), new Recorded.Answer(), 1);
        assertEquals(0, first.refCnt(), "replaced: freed");
    }

    @Test
    void aQueueGivesUpItsDataWhenTakenTimedOutOrClosed() {
        Queues queues = new Queues(keys);
        queues.create(new CoordinationRequest.QueueCreate("q", "c", 1), new Recorded.Answer());
        SubObject taken = received();
        SubObject timedOut = received();
        SubObject closed = received();
        queues.put(new CoordinationRequest.QueuePut("q", null, taken, "c", null), new Recorded.Answer(), 0);
        queues.put(new CoordinationRequest.QueuePut("q", null, timedOut, "c", 1.0), new Recorded.Answer(), 0);
        MessageCodec.release(List.of(taken, timedOut));
        queues.expire(2);
        assertEquals(0, timedOut.refCnt(), "a put that timed out never reached the queue");
        queues.get(new CoordinationRequest.QueueGet("q", "c", null, false), new Recorded.Answer(), 2);
        assertEquals(0, taken.refCnt(), "taken and written: the queue's reference is gone");
        queues.put(new CoordinationRequest.QueuePut("q", null, closed, "c", null), new Recorded.Answer(), 3);
        MessageCodec.release(closed);
        assertEquals(1, closed.refCnt());
        queues.release("q", 4);
        assertEquals(0, closed.refCnt(), "the queue closed with the item in it");
    }
}
