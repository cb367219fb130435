package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import org.junit.jupiter.api.Test;

/** An algorithm's contract: what CreateAlgorithm refuses, and what it demands of and adds to a training job that names it. */
class AlgorithmSpecsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE = "repo@sha256:" + "a".repeat(64);

    private static ObjectNode json(String s) throws Exception {
        return (ObjectNode) JSON.readTree(s.replace('\'', '"'));
    }

    private static ObjectNode spec() throws Exception {
        return json("{'TrainingImage':'localhost/algo:1','SupportedHyperParameters':["
                + "{'Name':'C','Type':'Continuous','Range':{'ContinuousParameterRangeSpecification':{'MinValue':'0.001','MaxValue':'1000'}},"
                + "'DefaultValue':'1'},"
                + "{'Name':'mode','Type':'Categorical','Range':{'CategoricalParameterRangeSpecification':{'Values':['train','fail']}},"
                + "'IsRequired':true},"
                + "{'Name':'depth','Type':'Integer','Range':{'IntegerParameterRangeSpecification':{'MinValue':'1','MaxValue':'10'}}},"
                + "{'Name':'note','Type':'FreeText'}],"
                + "'SupportedTrainingInstanceTypes':['ml.m5.large'],"
                + "'TrainingChannels':[{'Name':'train','IsRequired':true,'SupportedContentTypes':['text/csv'],"
                + "'SupportedCompressionTypes':['None','Gzip'],'SupportedInputModes':['File']},"
                + "{'Name':'validation','SupportedContentTypes':['text/csv'],'SupportedInputModes':['File']}]}");
    }

    private static ObjectNode job(String hyper) throws Exception {
        return json("{'TrainingJobName':'j','AlgorithmSpecification':{'AlgorithmName':'a','TrainingInputMode':'File'},"
                + "'HyperParameters':" + hyper + ",'InputDataConfig':[{'ChannelName':'train','ContentType':'text/csv','CompressionType':'Gzip',"
                + "'DataSource':{'S3DataSource':{'S3DataType':'S3Prefix','S3Uri':'s3://b/p/'}}}],"
                + "'ResourceConfig':{'InstanceType':'ml.m5.large','InstanceCount':1,'VolumeSizeInGB':1}}");
    }

    private static AlgorithmSpecs.Training training(ObjectNode spec) {
        return AlgorithmSpecs.training(spec, InstanceTypes.defaults());
    }

    private static String refusal(Runnable r) {
        try {
            r.run();
        } catch (AwsException e) {
            assertThat(e.code()).isEqualTo("ValidationException");
            return e.getMessage();
        }
        throw new AssertionError("not refused");
    }

    @Test
    void aJobGetsTheAlgorithmsImageAndItsDefaults() throws Exception {
        ObjectNode out = AlgorithmSpecs.apply(training(spec()), job("{'mode':'train','depth':'7'}"), IMAGE);
        assertThat(out.path("AlgorithmSpecification").path("TrainingImage").asText()).isEqualTo(IMAGE);
        assertThat(out.path("AlgorithmSpecification").has("AlgorithmName")).isFalse();
        assertThat(out.path("HyperParameters").toString()).isEqualTo("{\"mode\":\"train\",\"depth\":\"7\",\"C\":\"1\"}");
    }

    @Test
    void hyperparametersOutsideTheContractAreRefused() throws Exception {
        AlgorithmSpecs.Training t = training(spec());
        assertThat(refusal(() -> apply(t, "{'mode':'train','C':'5000'}"))).contains("C").contains("outside the range 0.001 to 1000");
        assertThat(refusal(() -> apply(t, "{'mode':'train','depth':'2.5'}"))).contains("is not an integer");
        assertThat(refusal(() -> apply(t, "{'mode':'train','depth':'0'}"))).contains("outside the range 1 to 10");
        assertThat(refusal(() -> apply(t, "{'mode':'sleep'}"))).contains("is not one of train, fail");
        assertThat(refusal(() -> apply(t, "{'mode':'train','gamma':'1'}"))).contains("gamma").contains("not one the algorithm supports");
        assertThat(refusal(() -> apply(t, "{'depth':'3'}"))).contains("mode").contains("required");
        assertThat(refusal(() -> apply(t, "{'mode':'train','C':'NaN'}"))).contains("is not a number");
    }

    @Test
    void channelsInstanceTypesAndTheImageAreTheAlgorithms() throws Exception {
        AlgorithmSpecs.Training t = training(spec());
        ObjectNode noTrain = job("{'mode':'train'}");
        ((ObjectNode) noTrain.path("InputDataConfig").get(0)).put("ChannelName", "validation");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, noTrain, IMAGE))).contains("Channel train is required");
        ObjectNode other = job("{'mode':'train'}");
        ((ObjectNode) other.path("InputDataConfig").get(0)).put("ChannelName", "extra");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, other, IMAGE))).contains("not one the algorithm supports");
        ObjectNode json = job("{'mode':'train'}");
        ((ObjectNode) json.path("InputDataConfig").get(0)).put("ContentType", "application/json");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, json, IMAGE))).contains("content type");
        ObjectNode big = job("{'mode':'train'}");
        ((ObjectNode) big.path("ResourceConfig")).put("InstanceType", "ml.c5.xlarge");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, big, IMAGE))).contains("not supported by the algorithm");
        ObjectNode both = job("{'mode':'train'}");
        ((ObjectNode) both.path("AlgorithmSpecification")).put("TrainingImage", "elsewhere/x:1");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, both, IMAGE))).contains("both an AlgorithmName and a TrainingImage");
        ObjectNode entry = job("{'mode':'train'}");
        ((ObjectNode) entry.path("AlgorithmSpecification")).putArray("ContainerEntrypoint").add("/bin/sh");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, entry, IMAGE))).contains("ContainerEntrypoint");
        // found by the fuzzing campaign: a job without the structure failed with a ClassCastException
        ObjectNode none = job("{'mode':'train'}");
        none.remove("AlgorithmSpecification");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, none, IMAGE))).contains("AlgorithmSpecification must be a structure");
        ObjectNode array = job("{'mode':'train'}");
        array.putArray("AlgorithmSpecification");
        assertThat(refusal(() -> AlgorithmSpecs.apply(t, array, IMAGE))).contains("AlgorithmSpecification must be a structure");
    }

    @Test
    void aContractThatContradictsItselfIsRefused() throws Exception {
        ObjectNode badDefault = spec();
        ((ObjectNode) badDefault.path("SupportedHyperParameters").get(0)).put("DefaultValue", "0");
        assertThat(refusal(() -> training(badDefault))).contains("its DefaultValue");
        ObjectNode inverted = spec();
        ((ObjectNode) inverted.path("SupportedHyperParameters").get(2).path("Range").path("IntegerParameterRangeSpecification"))
                .put("MinValue", "20");
        assertThat(refusal(() -> training(inverted))).contains("MinValue is above MaxValue");
        ObjectNode twice = spec();
        twice.withArray("SupportedHyperParameters").add(twice.path("SupportedHyperParameters").get(0).deepCopy());
        assertThat(refusal(() -> training(twice))).contains("twice");
        ObjectNode pipeOnly = spec();
        ((ObjectNode) pipeOnly.path("TrainingChannels").get(0)).putArray("SupportedInputModes").add("Pipe");
        assertThat(refusal(() -> training(pipeOnly))).contains("must include File");
        ObjectNode unknownType = spec();
        unknownType.putArray("SupportedTrainingInstanceTypes").add("ml.p4d.24xlarge");
        assertThat(refusal(() -> training(unknownType))).contains("not offered here");
        ObjectNode badRegex = spec();
        badRegex.putArray("MetricDefinitions").addObject().put("Name", "loss").put("Regex", "loss=(");
        assertThat(refusal(() -> training(badRegex))).contains("not a regular expression");
        ObjectNode noChannels = spec();
        noChannels.remove("TrainingChannels");
        assertThat(refusal(() -> training(noChannels))).contains("TrainingChannels");
        assertThatThrownBy(() -> training(json("{'TrainingChannels':[]}"))).isInstanceOf(AwsException.class);
    }

    private static void apply(AlgorithmSpecs.Training t, String hyper) {
        try {
            AlgorithmSpecs.apply(t, job(hyper), IMAGE);
        } catch (AwsException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
