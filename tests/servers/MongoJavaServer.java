// A second live server for the test run: mongo-java-server's in-memory backend (with its
// oplog, for change streams), bound to 127.0.0.1, speaking as a MongoDB 7.0 would to the
// handshake. Run by xtask (xtask/src/servers/mongo_java.rs) with Java's source launcher
// over the classpath Maven resolves from pom.xml next to this file:
//
//     java -Xmx1g -cp "$(cat classpath.txt)" MongoJavaServer.java [port]
//
// It prints `listening on mongodb://127.0.0.1:<port>/` once it accepts connections and
// runs until it is killed.
//
// Why the handshake is rewritten: stock 1.47.0 advertises maxWireVersion 8 (MongoDB 5.0)
// and answers `hello` with error 59, and the Rust driver 3.x and the Node driver 7.x
// refuse servers below wire version 9. The reply to `hello` is its reply to `isMaster`
// with the fields a `hello` reply has; nothing else is changed. `buildInfo` says
// `mongoJavaServer: "1.47.0"` so that suites can tell this server apart (as they tell
// FerretDB by its `ferretdb` field).
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.List;

public class MongoJavaServer {
    static final String VERSION = "1.47.0";

    /** MongoDB 7.0's wire version (21). */
    static final MongoVersion MONGODB_7_0 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(7, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 21;
        }
    };

    static final class Backend extends MemoryBackend {
        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            if (command.equalsIgnoreCase("hello")) {
                Document reply = super.handleCommand(channel, database, "isMaster", query);
                reply.remove("ismaster");
                reply.put("isWritablePrimary", Boolean.TRUE);
                reply.put("helloOk", Boolean.TRUE);
                return reply;
            }
            Document reply = super.handleCommand(channel, database, command, query);
            if (command.equalsIgnoreCase("buildInfo")) reply.put("mongoJavaServer", VERSION);
            return reply;
        }
    }

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        Backend backend = new Backend();
        backend.version(MONGODB_7_0);
        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        server.bind(new InetSocketAddress("127.0.0.1", port));
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("listening on mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/");
        System.out.flush();
    }
}
