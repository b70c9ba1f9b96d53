package org.cloudviper.scheduler.state;

import java.util.Map;

/** What the state needs from register-worker. */
public record WorkerRegistration(String address, String name, int nthreads, long memoryLimit,
                                 Map<String, Double> resources, double now) {
}
