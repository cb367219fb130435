package dev.citadel.server.acceptance;

import dev.citadel.server.TestServer;

/** Lets tests outside this package make one signed STS call with a server's client files. */
public final class ClientEnvironmentProbe {
    private final RawClient client;

    public ClientEnvironmentProbe(TestServer server) {
        this.client = new RawClient(server);
    }

    public int callerIdentityStatus() {
        return client.post("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2011-06-15").status();
    }
}
