package org.cloudviper.cube;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/** S3 failures as {@link DatasetException}s naming the object, and whether another attempt may help. */
final class S3Errors {
    private S3Errors() {
    }

    /** Waits for {@code f}; its failure becomes a {@link DatasetException} about {@code uri}. */
    static <T> T join(String uri, String doing, CompletableFuture<T> f) throws DatasetException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new DatasetException(DatasetException.Kind.IO, uri, doing + ": interrupted", e);
        } catch (ExecutionException | CompletionException | CancellationException e) {
            throw of(uri, doing, e);
        }
    }

    static DatasetException of(String uri, String doing, Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof DatasetException d) {
            return d;
        }
        if (c instanceof AwsServiceException s) {
            int status = s.statusCode();
            String code = s.awsErrorDetails() == null ? null : s.awsErrorDetails().errorCode();
            String what = "HTTP " + status + (code == null ? "" : " " + code);
            if (status == 404) {
                String noun = "NoSuchBucket".equals(code) ? "no such bucket" : "no such object";
                return new DatasetException(DatasetException.Kind.NOT_FOUND, uri, noun + " (" + what + ")", c);
            }
            if (status == 403 || status == 401) {
                return new DatasetException(DatasetException.Kind.ACCESS_DENIED, uri, "access denied (" + what + ")", c);
            }
            String detail = s.awsErrorDetails() == null ? s.getMessage() : s.awsErrorDetails().errorMessage();
            return new DatasetException(DatasetException.Kind.IO, uri, doing + ": " + what
                    + (detail == null ? "" : ": " + detail), c);
        }
        return new DatasetException(DatasetException.Kind.IO, uri, doing + ": " + c, c);
    }

    /** Worth another attempt: not a refusal the server will repeat (4xx but 408 and 429). */
    static boolean retryable(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof DatasetException d) {
            return d.kind() == DatasetException.Kind.IO && !(d.getCause() instanceof AwsServiceException s && !retryableStatus(s));
        }
        if (c instanceof AwsServiceException s) {
            return retryableStatus(s);
        }
        return c instanceof SdkException || c instanceof java.io.IOException;
    }

    private static boolean retryableStatus(AwsServiceException s) {
        int status = s.statusCode();
        return status >= 500 || status == 408 || status == 429 || status == 0;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
