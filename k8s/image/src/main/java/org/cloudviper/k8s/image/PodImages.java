package org.cloudviper.k8s.image;

import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.InvalidImageReferenceException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import com.google.cloud.tools.jib.api.buildplan.Port;
import com.google.cloud.tools.jib.frontend.CredentialRetrieverFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds the pod images with Jib, without Docker: the scheduler image (cloudviper-k8s.jar: the scheduler,
 * its scaler and the standalone scaler) and the worker image (cloudviper-worker.jar), each on a
 * configurable JRE base, with {@code /opt/cloudviper/bin/entrypoint ROLE ARGS...} as entrypoint.
 *
 * <pre>
 * java -cp ... org.cloudviper.k8s.image.PodImages BASE SCHEDULER_JAR WORKER_JAR TO_SCHEDULER TO_WORKER
 * </pre>
 * BASE is an image reference ({@code eclipse-temurin:17-jre}) or {@code tar:///path/base.tar}; a
 * target ending in {@code .tar} is written as a docker-save tar, any other is pushed to its registry
 * (credentials from the Docker config, as Jib finds them).
 */
public final class PodImages {
    public static final String HOME = "/opt/cloudviper";
    public static final String ENTRYPOINT = HOME + "/bin/entrypoint";

    private PodImages() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: PodImages BASE SCHEDULER_JAR WORKER_JAR TO_SCHEDULER TO_WORKER");
            System.exit(2);
        }
        build(args[0], Path.of(args[1]), "cloudviper-k8s.jar", args[3], List.of(8786, 8787));
        build(args[0], Path.of(args[2]), "cloudviper-worker.jar", args[4], List.of(8788, 8789));
    }

    /** The launchers, put next to the entrypoint (which prefers them to plain java). */
    static final List<String> LAUNCHERS = List.of("cloudviper-launcher.sh", "cloudviper-scheduler", "cloudviper-worker");

    /**
     * One image: the base, a layer with the jar (and the class-data archives written next to it for
     * it, {@code NAME.jdkN.aot}/{@code .jsa}), a layer with the entrypoint and the launchers. The jar
     * keeps its modification time: the JVM accepts an archive only for the jar it was written from.
     */
    public static void build(String base, Path jar, String jarName, String to, List<Integer> ports)
            throws Exception {
        Path scripts = Files.createTempDirectory("cloudviper-bin");
        try {
            FileEntriesLayer.Builder bin = FileEntriesLayer.builder().setName("bin");
            for (String name : concat("entrypoint", LAUNCHERS)) {
                String resource = name.equals("entrypoint") ? name : "bin/" + name;
                Path script = scripts.resolve(name);
                try (InputStream in = PodImages.class.getResourceAsStream(resource)) {
                    if (in == null) {
                        throw new IOException("missing resource " + resource);
                    }
                    Files.copy(in, script);
                }
                bin.addEntry(script, AbsoluteUnixPath.get(HOME + "/bin/" + name),
                        FilePermissions.fromOctalString(name.endsWith(".sh") ? "644" : "755"));
            }
            FileEntriesLayer.Builder lib = FileEntriesLayer.builder().setName("jar")
                    .addEntry(jar, AbsoluteUnixPath.get(HOME + "/lib/" + jarName), FilePermissions.DEFAULT_FILE_PERMISSIONS,
                            Files.getLastModifiedTime(jar).toInstant());
            for (Path archive : archives(jar)) {
                String name = archive.getFileName().toString().replace(
                        jar.getFileName().toString().replaceFirst("\\.jar$", ""), jarName.replaceFirst("\\.jar$", ""));
                lib.addEntry(archive, AbsoluteUnixPath.get(HOME + "/lib/" + name), FilePermissions.DEFAULT_FILE_PERMISSIONS,
                        Files.getLastModifiedTime(archive).toInstant());
            }
            JibContainerBuilder b = Jib.from(base)
                    .addFileEntriesLayer(lib.build())
                    .addFileEntriesLayer(bin.build())
                    .setEntrypoint(ENTRYPOINT)
                    .setWorkingDirectory(AbsoluteUnixPath.get(HOME));
            for (int p : ports) {
                b.addExposedPort(Port.tcp(p));
            }
            b.containerize(containerizer(to));
        } finally {
            try (var s = Files.list(scripts)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(scripts);
        }
    }

    /**
     * The class-data archives next to {@code jar} (scripts/train-aot.sh): {@code NAME.jdkN.aot}, which
     * a JDK of the same build accepts at another path. AppCDS archives ({@code .jsa}) name the jar's
     * path, so they are made in the image instead (the smoke test shows how).
     */
    static List<Path> archives(Path jar) throws IOException {
        String base = jar.getFileName().toString().replaceFirst("\\.jar$", "");
        try (var s = Files.list(jar.toAbsolutePath().getParent())) {
            return s.filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(base) + "\\.jdk\\d+\\.aot"))
                    .sorted().toList();
        }
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> r = new java.util.ArrayList<>();
        r.add(first);
        r.addAll(rest);
        return r;
    }

    private static Containerizer containerizer(String to) throws InvalidImageReferenceException {
        if (to.endsWith(".tar")) {
            Path tar = Path.of(to);
            String name = "cloudviper/" + tar.getFileName().toString().replaceFirst("\\.tar$", "") + ":latest";
            return Containerizer.to(TarImage.at(tar).named(name));
        }
        ImageReference ref = ImageReference.parse(to);
        RegistryImage image = RegistryImage.named(ref);
        CredentialRetrieverFactory credentials = CredentialRetrieverFactory.forImage(ref,
                e -> System.err.println(e.getMessage()));
        image.addCredentialRetriever(credentials.dockerConfig());
        return Containerizer.to(image);
    }
}
