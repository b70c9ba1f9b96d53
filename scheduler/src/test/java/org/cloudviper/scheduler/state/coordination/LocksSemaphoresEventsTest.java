package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.Outbox;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lock, MultiLock, Semaphore (leases that lapse), Event and Pub/Sub as pure state. */
class LocksSemaphoresEventsTest {

    private static Recorded.Answer answer() {
        return new Recorded.Answer();
    }

    @Test
    void lockWaitersAreServedInOrderAndTimeOut() {
        Locks locks = new Locks();
        Recorded.Answer a = answer();
        locks.acquire(new CoordinationRequest.LockAcquire("l", "a", null), a, 0);
        a.assertValue(true);
        Recorded.Answer now = answer();
        locks.acquire(new CoordinationRequest.LockAcquire("l", "x", 0.0), now, 0);
        now.assertValue(false);
        Recorded.Answer gone = answer();
        Recorded.Answer b = answer();
        Recorded.Answer c = answer();
        locks.acquire(new CoordinationRequest.LockAcquire("l", "gone", null), gone, 0);
        locks.acquire(new CoordinationRequest.LockAcquire("l", "b", null), b, 0);
        locks.acquire(new CoordinationRequest.LockAcquire("l", "c", 1.0), c, 0);
        gone.open = false;
        locks.expire(1.0);
        c.assertValue(false);
        Recorded.Answer wrong = answer();
        locks.release(new CoordinationRequest.LockRelease("l", "b"), wrong);
        wrong.assertError("ValueError");
        locks.release(new CoordinationRequest.LockRelease("l", "a"), answer());
        b.assertValue(true);
        gone.assertWaiting();
        locks.release(new CoordinationRequest.LockRelease("l", "b"), answer());
        assertFalse(locks.held("l"));
    }

    @Test
    void multiLockGrantsOnceEnoughLocksAreFirst() {
        MultiLocks m = new MultiLocks();
        Recorded.Answer a = answer();
        m.acquire(new CoordinationRequest.MultiLockAcquire(List.of("x", "y"), "a", null, 2), a, 0);
        a.assertValue(true);
        Recorded.Answer b = answer();
        m.acquire(new CoordinationRequest.MultiLockAcquire(List.of("y", "z"), "b", null, 2), b, 0);
        b.assertWaiting();
        Recorded.Answer c = answer();
        m.acquire(new CoordinationRequest.MultiLockAcquire(List.of("z"), "c", 1.0, 1), c, 0);
        c.assertWaiting();
        m.expire(1.0);
        c.assertValue(false);
        assertFalse(m.known("c"), "a timed-out request gives up its places");
        Recorded.Answer one = answer();
        m.acquire(new CoordinationRequest.MultiLockAcquire(List.of("x", "w"), "d", null, 1), one, 0);
        one.assertValue(true);
        m.release("a", answer());
        b.assertValue(true);
        Recorded.Answer bad = answer();
        m.acquire(new CoordinationRequest.MultiLockAcquire(List.of("q"), "e", null, 2), bad, 0);
        bad.assertError("AssertionError");
        Recorded.Answer unknown = answer();
        m.release("nobody", unknown);
        unknown.assertError("KeyError");
    }

    private static CoordinationRequest.SemaphoreRegister register(long max, Double leaseTimeout, boolean sent) {
        return new CoordinationRequest.SemaphoreRegister("s", max, leaseTimeout, sent);
    }

    private static Recorded.Answer acquire(Semaphores s, Object lease, Double timeout, double now) {
        Recorded.Answer a = answer();
        s.acquire(new CoordinationRequest.SemaphoreAcquire("s", timeout, lease), a, now);
        return a;
    }

    @Test
    void leasesOfAHolderThatStopsRefreshingLapse() {
        Semaphores s = new Semaphores(30);
        s.register(register(1, 5.0, true), answer());
        acquire(s, "l1", null, 0).assertValue(true);
        acquire(s, "l1", null, 0).assertValue(true); // a retried acquire of the same lease
        Recorded.Answer waiting = acquire(s, "l2", null, 0);
        waiting.assertWaiting();
        s.refresh(new CoordinationRequest.SemaphoreRefreshLeases("s", List.of("l1")), answer(), 4);
        s.expire(8);
        waiting.assertWaiting();
        s.expire(9.5);
        waiting.assertValue(true);
        Recorded.Answer value = answer();
        s.value("s", value);
        value.assertValue(1L);
        assertTrue(s.takeWarnings().isEmpty());
        s.refresh(new CoordinationRequest.SemaphoreRefreshLeases("s", List.of("l1")), answer(), 10);
        assertEquals(1, s.takeWarnings().size(), "a lapsed lease refreshed: Dask warns of overbooking");
    }

    @Test
    void semaphoreRegistrationTimeoutsAndClose() {
        Semaphores s = new Semaphores(30);
        s.register(register(2, null, false), answer());
        Recorded.Answer mismatch = answer();
        s.register(register(3, null, false), mismatch);
        mismatch.assertError("ValueError");
        acquire(s, "a", null, 0).assertValue(true);
        acquire(s, "b", null, 0).assertValue(true);
        acquire(s, "c", 0.0, 0).assertValue(false);
        Recorded.Answer timed = acquire(s, "c", 1.0, 0);
        s.expire(1.0);
        timed.assertValue(false);
        s.expire(29);
        assertTrue(s.hasLeases(), "a 2022 registration takes the scheduler's 30 s");
        s.expire(31);
        assertFalse(s.hasLeases());
        Recorded.Answer blocked = acquire(s, "d", null, 31);
        blocked.assertValue(true);
        acquire(s, "e", null, 31).assertValue(true);
        Recorded.Answer waiting = acquire(s, "f", null, 31);
        s.close("s", answer());
        waiting.assertError("RuntimeError");
        acquire(s, "g", null, 32).assertError("RuntimeError");
    }

    @Test
    void semaphoreWithoutLeaseTimeoutNeverLapses() {
        Semaphores s = new Semaphores(30);
        s.register(register(1, null, true), answer());
        acquire(s, "a", null, 0).assertValue(true);
        s.expire(1e9);
        Recorded.Answer v = answer();
        s.value("s", v);
        v.assertValue(1L);
        s.release(new CoordinationRequest.SemaphoreRelease("s", "a"), answer(), 1);
        s.release(new CoordinationRequest.SemaphoreRelease("s", "a"), answer(), 1);
        assertEquals(1, s.takeWarnings().size(), "a second release is only logged");
    }

    @Test
    void eventsWakeWaitersAndAreForgottenWhenClear() {
        Events e = new Events();
        Recorded.Answer w = answer();
        Recorded.Answer t = answer();
        e.waitFor(new CoordinationRequest.EventWait("e", null), w, 0);
        e.waitFor(new CoordinationRequest.EventWait("e", 1.0), t, 0);
        e.expire(1.0);
        t.assertValue(false);
        w.assertWaiting();
        e.set("e", answer());
        w.assertValue(true);
        Recorded.Answer isSet = answer();
        e.isSet("e", isSet);
        isSet.assertValue(true);
        Recorded.Answer immediate = answer();
        e.waitFor(new CoordinationRequest.EventWait("e", 0.0), immediate, 2);
        immediate.assertValue(true);
        e.clear("e", answer());
        assertEquals(0, e.size());
    }

    /** Messages the Pub/Sub state sends, in order, as "to:message". */
    private static final class Sent implements Outbox {
        final List<String> log = new ArrayList<>();

        @Override
        public void toWorker(String address, SchedulerToWorker message) {
            log.add(address + ":" + message);
        }

        @Override
        public void toClient(String client, SchedulerToClient message) {
            log.add(client + ":" + message);
        }
    }

    @Test
    void pubSubIntroducesWorkersAndRelaysToClients() {
        Sent sent = new Sent();
        PubSub p = new PubSub(sent);
        Recorded.Answer first = answer();
        p.addPublisher("t", "w1", first);
        first.assertValue(Map.of("subscribers", Map.of(), "publish-scheduler", false));
        p.addSubscriber("t", "w2", null);
        p.addSubscriber("t", null, "c1");
        assertEquals(List.of("w1:" + new SchedulerToWorker.PubSubSubscriber("t", "w2", true),
                "w1:" + new SchedulerToWorker.PubSubPublishScheduler("t", true)), sent.log);
        sent.log.clear();
        Recorded.Answer second = answer();
        p.addPublisher("t", "w3", second);
        second.assertValue(Map.of("subscribers", Map.of("w2", Map.of()), "publish-scheduler", true));

        p.message("t", "from-worker", "w1", null);
        assertEquals(List.of("c1:" + new SchedulerToClient.PubSubMsg("t", "from-worker")), sent.log);
        sent.log.clear();
        p.message("t", "from-client", null, "c2");
        assertEquals(List.of("c1:" + new SchedulerToClient.PubSubMsg("t", "from-client"),
                "w2:" + new SchedulerToWorker.PubSubMsg("t", "from-client")), sent.log);
        sent.log.clear();

        p.clientRemoved("c1");
        assertEquals(List.of("w1:" + new SchedulerToWorker.PubSubPublishScheduler("t", false),
                "w3:" + new SchedulerToWorker.PubSubPublishScheduler("t", false)), sent.log);
        sent.log.clear();
        p.workerRemoved("w2");
        assertEquals(List.of("w1:" + new SchedulerToWorker.PubSubSubscriber("t", "w2", false),
                "w3:" + new SchedulerToWorker.PubSubSubscriber("t", "w2", false)), sent.log);
        p.workerRemoved("w1");
        p.workerRemoved("w3");
        assertEquals(List.of(), p.topics());
    }
}
