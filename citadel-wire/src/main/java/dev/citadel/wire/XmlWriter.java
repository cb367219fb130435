package dev.citadel.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A streaming writer of small XML documents such as S3 response bodies:
 * {@code <?xml version="1.0" encoding="UTF-8"?>\n<Root xmlns="…">…</Root>}. Text is escaped by
 * {@link Xml#escape}; element names must be XML names ({@link Xml#requireName}). Elements are
 * opened with {@link #start} and closed with {@link #end}; {@link #toBytes} closes what is still
 * open and returns the UTF-8 document. Not thread-safe: one writer per response.
 */
public final class XmlWriter {
    private final StringBuilder sb;
    private final Deque<String> open = new ArrayDeque<>();
    private boolean finished;

    private XmlWriter(StringBuilder sb) {
        this.sb = sb;
    }

    /** A document with the XML declaration and the root element, with {@code xmlns} when it is not empty. */
    public static XmlWriter document(String root, String xmlns) {
        XmlWriter w = new XmlWriter(new StringBuilder(256).append(Xml.DECLARATION));
        w.sb.append('<').append(Xml.requireName(root));
        if (xmlns != null && !xmlns.isEmpty()) {
            w.sb.append(" xmlns=\"");
            Xml.escape(w.sb, xmlns).append('"');
        }
        w.sb.append('>');
        w.open.push(root);
        return w;
    }

    /** Opens a child element. */
    public XmlWriter start(String name) {
        requireOpen();
        sb.append('<').append(Xml.requireName(name)).append('>');
        open.push(name);
        return this;
    }

    /** Writes {@code <name>text</name>}. */
    public XmlWriter element(String name, CharSequence text) {
        requireOpen();
        Xml.element(sb, name, text);
        return this;
    }

    /** Writes {@code <name>text</name>} unless {@code text} is null. */
    public XmlWriter optionalElement(String name, CharSequence text) {
        return text == null ? this : element(name, text);
    }

    /** Writes escaped text inside the current element. */
    public XmlWriter text(CharSequence text) {
        requireOpen();
        Xml.escape(sb, text);
        return this;
    }

    /** Closes the innermost open element. */
    public XmlWriter end() {
        requireOpen();
        sb.append("</").append(open.pop()).append('>');
        return this;
    }

    /** Closes every open element, the root included, and returns the document as UTF-8. */
    public byte[] toBytes() {
        while (!open.isEmpty()) {
            sb.append("</").append(open.pop()).append('>');
        }
        finished = true;
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void requireOpen() {
        if (finished || open.isEmpty()) {
            throw new IllegalStateException("the document is closed");
        }
    }
}
