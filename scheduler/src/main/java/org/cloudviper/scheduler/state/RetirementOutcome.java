package org.cloudviper.scheduler.state;

import java.util.List;

/**
 * The end of one {@code retire_workers} request. {@code retired}: workers whose unique data now
 * lives elsewhere (or that left by themselves); {@code refused}: workers kept because some unique
 * key had no possible recipient (they run again with their previous status). {@code close} and
 * {@code remove} repeat the request's options: the caller closes and/or removes the retired workers.
 */
public record RetirementOutcome(long requestId, List<String> retired, List<String> refused, boolean close,
                                boolean remove, String stimulusId) {
}
