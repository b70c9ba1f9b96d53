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

    /** One image: the base, a layer with the jar, a layer with the entrypoint script. */
    public static void build(String base, Path jar, String jarName, String to, List<Integer> ports)
            throws Exception {
        Path script = Files.createTempFile("entrypoint", "");
        try (InputStream in = PodImages.class.getResourceAsStream("entrypoint")) {
            if (in == null) {
                throw new IOException("missing resource entrypoint");
            }
            Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            JibContainerBuilder b = Jib.from(base)
                    .addFileEntriesLayer(FileEntriesLayer.builder().setName("jar")
                            .addEntry(jar, AbsoluteUnixPath.get(HOME + "/lib/" + jarName)).build())
                    .addFileEntriesLayer(FileEntriesLayer.builder().setName("entrypoint")
                            .addEntry(script, AbsoluteUnixPath.get(ENTRYPOINT), FilePermissions.fromOctalString("755"))
                            .build())
                    .setEntrypoint(ENTRYPOINT)
                    .setWorkingDirectory(AbsoluteUnixPath.get(HOME));
            for (int p : ports) {
                b.addExposedPort(Port.tcp(p));
            }
            b.containerize(containerizer(to));
        } finally {
            Files.deleteIfExists(script);
        }
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
