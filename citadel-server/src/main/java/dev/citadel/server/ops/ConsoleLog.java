package dev.citadel.server.ops;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import dev.citadel.server.config.ServerConfig;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Citadel's own log on standard error, in the format {@code log.format} chose. {@code text} is
 * what {@code logback.xml} sets up (one readable line, with {@code [request id]} while a request
 * is handled); {@code json} replaces that appender's encoder with Logback's own {@link
 * JsonEncoder}: one object per line with {@code timestamp} (epoch milliseconds), {@code level},
 * {@code threadName}, {@code loggerName}, {@code mdc} (while a request is handled: requestId,
 * service, operation, accountId; see {@code RequestLogContext}), {@code formattedMessage} and,
 * for a failure, {@code throwable}. The message's arguments are not repeated apart from the
 * formatted message, and the logger context's properties are left out.
 */
public final class ConsoleLog {
    /** The name of the console appender in logback.xml. */
    static final String APPENDER = "CONSOLE";

    private ConsoleLog() {
    }

    /** Switches the console appender to the format; a no-op for text, or when SLF4J is not bound to Logback. */
    public static void use(ServerConfig.LogFormat format) {
        if (format == ServerConfig.LogFormat.TEXT) {
            return;
        }
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
        json.setContext(context);
        json.setName(APPENDER);
        json.setTarget("System.err");
        json.setEncoder(jsonEncoder(context));
        json.start();
        Appender<ILoggingEvent> previous = root.getAppender(APPENDER);
        root.addAppender(json);
        if (previous != null) {
            root.detachAppender(previous);
            previous.stop();
        }
    }

    /** The JSON encoder of {@code log.format = json}, started. */
    public static JsonEncoder jsonEncoder(LoggerContext context) {
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.setWithSequenceNumber(false);
        encoder.setWithNanoseconds(false);
        encoder.setWithContext(false);
        encoder.setWithMessage(false);
        encoder.setWithArguments(false);
        encoder.setWithFormattedMessage(true);
        encoder.start();
        return encoder;
    }
}
