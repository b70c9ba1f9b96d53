package org.cloudviper.scheduler.state;

import org.cloudviper.scheduler.state.TaskState.Status;

import static org.cloudviper.scheduler.state.TaskState.Status.ERRED;
import static org.cloudviper.scheduler.state.TaskState.Status.FORGOTTEN;
import static org.cloudviper.scheduler.state.TaskState.Status.MEMORY;
import static org.cloudviper.scheduler.state.TaskState.Status.NO_WORKER;
import static org.cloudviper.scheduler.state.TaskState.Status.PROCESSING;
import static org.cloudviper.scheduler.state.TaskState.Status.QUEUED;
import static org.cloudviper.scheduler.state.TaskState.Status.RELEASED;
import static org.cloudviper.scheduler.state.TaskState.Status.WAITING;

/**
 * The table of legal task moves that {@link Transitions#transition} checks every status change
 * against, and which of them start or stop a task's need for its inputs. A move is a number below
 * 64 ({@link #move}), so each check is one bit test.
 */
final class LegalMoves {
    /**
     * Legal moves, one bit per {@code (start, finish)} ({@link #bit}). Dask's _TRANSITIONS_TABLE of
     * 2022.12.1 and 2024.12.1 (which adds queued -> erred and no-worker -> erred), plus released ->
     * memory: Dask's update_data (scatter) sets a key's state to memory without a transition, from
     * whatever state it was in; here scattered data moves processing or waiting -> memory directly
     * and any other state through released. Dask also goes through released for any other pair
     * without released in it; here such a pair is a bug, so the handler spells out both moves.
     * processing -> processing is a stolen task moving to its thief: Dask's stealing changes
     * {@code processing_on} without a transition (move_task_confirm); here the move is in the story.
     */
    private static final long LEGAL = bit(RELEASED, WAITING) | bit(RELEASED, ERRED) | bit(RELEASED, FORGOTTEN)
            | bit(RELEASED, MEMORY)
            | bit(WAITING, RELEASED) | bit(WAITING, PROCESSING) | bit(WAITING, QUEUED) | bit(WAITING, NO_WORKER)
            | bit(WAITING, MEMORY)
            | bit(QUEUED, RELEASED) | bit(QUEUED, PROCESSING) | bit(QUEUED, ERRED)
            | bit(NO_WORKER, RELEASED) | bit(NO_WORKER, PROCESSING) | bit(NO_WORKER, ERRED)
            | bit(PROCESSING, RELEASED) | bit(PROCESSING, MEMORY) | bit(PROCESSING, ERRED)
            | bit(PROCESSING, PROCESSING)
            | bit(MEMORY, RELEASED) | bit(MEMORY, FORGOTTEN)
            | bit(ERRED, RELEASED);

    /** The legal moves that start or stop a task's need for its inputs (its count in their waiters). */
    private static final long WAITER_CHANGE = waiterChanges();

    private LegalMoves() {
    }

    /** A move as a number below 64: {@code start.ordinal() * 8 + finish.ordinal()}. */
    static int move(Status start, Status finish) {
        return start.ordinal() << 3 | finish.ordinal();
    }

    private static long bit(Status start, Status finish) {
        return 1L << move(start, finish);
    }

    private static long waiterChanges() {
        long m = 0;
        for (Status start : Status.values()) {
            for (Status finish : Status.values()) {
                if (start.needsInputs != finish.needsInputs) {
                    m |= bit(start, finish);
                }
            }
        }
        return m & LEGAL;
    }

    static boolean legal(Status start, Status finish) {
        return (LEGAL & bit(start, finish)) != 0;
    }

    /** Whether {@code move} (see {@link #move}) is in the table. */
    static boolean legal(int move) {
        return (LEGAL & (1L << move)) != 0;
    }

    /** Whether {@code move} starts or stops the task's need for its inputs. */
    static boolean changesWaiters(int move) {
        return (WAITER_CHANGE & (1L << move)) != 0;
    }
}
