package org.cloudviper.scheduler.state;

import java.util.Map;

/** What the state needs from register-worker. {@code daskGeneration} is 2022 or 2024. */
public record WorkerRegistration(String address, String name, int nthreads, long memoryLimit,
                                 Map<String, Double> resources, int daskGeneration, double now) {
}
