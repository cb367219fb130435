package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The streaming XML writer of restXml bodies. */
class XmlWriterTest {
    private static String text(XmlWriter w) {
        return new String(w.toBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void documentStartsWithTheDeclarationAndCarriesTheNamespaceOnTheRoot() {
        XmlWriter w = XmlWriter.document("ListAllMyBucketsResult", "http://s3.amazonaws.com/doc/2006-03-01/")
                .start("Buckets").start("Bucket").element("Name", "b1").end().end();
        assertThat(text(w)).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Buckets><Bucket><Name>b1</Name></Bucket>"
                + "</Buckets></ListAllMyBucketsResult>");
    }

    @Test
    void rootWithoutNamespaceHasNoXmlnsAttribute() {
        assertThat(text(XmlWriter.document("LocationConstraint", null).text("us-east-1")))
                .isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint>us-east-1</LocationConstraint>");
        assertThat(text(XmlWriter.document("R", ""))).endsWith("<R></R>");
    }

    @Test
    void textAndNamespaceAreEscaped() {
        assertThat(text(XmlWriter.document("R", "urn:\"x\"&").element("Key", "a<b>&'\"c\r")))
                .endsWith("<R xmlns=\"urn:&quot;x&quot;&amp;\"><Key>a&lt;b&gt;&amp;&apos;&quot;c&#13;</Key></R>");
    }

    @Test
    void toBytesClosesEveryOpenElement() {
        assertThat(text(XmlWriter.document("A", null).start("B").start("C"))).endsWith("<A><B><C></C></B></A>");
    }

    @Test
    void optionalElementWithNullTextWritesNothing() {
        assertThat(text(XmlWriter.document("A", null).optionalElement("VersionId", null).optionalElement("Key", "k")))
                .endsWith("<A><Key>k</Key></A>");
    }

    @Test
    void elementNameThatIsNotAnXmlNameIsRefused() {
        XmlWriter w = XmlWriter.document("A", null);
        assertThatThrownBy(() -> w.start("a b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.element("x><y", "v")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XmlWriter.document("1A", null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writingAfterTheDocumentIsClosedFails() {
        XmlWriter w = XmlWriter.document("A", null);
        w.toBytes();
        assertThatThrownBy(() -> w.element("B", "x")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void closingTheRootTwiceFails() {
        XmlWriter w = XmlWriter.document("A", null).end();
        assertThatThrownBy(w::end).isInstanceOf(IllegalStateException.class);
    }
}
