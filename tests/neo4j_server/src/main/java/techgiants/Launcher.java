package techgiants;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs a Neo4j 5.26 Community DBMS embedded in this JVM with a Bolt connector,
 * which makes it a real Bolt server for the tests (no Neo4j tarball needed).
 *
 * Usage: java -Xmx1g -cp target/classes:$(cat target/classpath.txt) techgiants.Launcher HOME_DIR PORT [WATCH_PID]
 *
 * HOME_DIR  becomes the Neo4j home (data/ and logs/ are created inside it).
 * PORT      Bolt port, bound on 127.0.0.1 only; auth disabled, no TLS.
 * WATCH_PID optional: shut down when that process exits (so a crashed test run does not leak a server).
 *
 * Tunables (system properties): -Dtg.pagecache=256m -Dtg.tx.global=512m -Dtg.tx.max=256m
 *
 * Prints "BOLT READY bolt://127.0.0.1:PORT" once the default database is available and
 * shuts down cleanly on SIGTERM/SIGINT (shutdown hook).
 */
public final class Launcher {

    private Launcher() {}

    static long bytes(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        long mult = 1;
        char last = v.charAt(v.length() - 1);
        if (last == 'k') mult = 1L << 10;
        else if (last == 'm') mult = 1L << 20;
        else if (last == 'g') mult = 1L << 30;
        if (mult != 1) v = v.substring(0, v.length() - 1);
        return Long.parseLong(v) * mult;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: techgiants.Launcher HOME_DIR PORT [WATCH_PID]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        Files.createDirectories(home);

        long pageCache = bytes(System.getProperty("tg.pagecache", "256m"));
        long txGlobal = bytes(System.getProperty("tg.tx.global", "512m"));
        long txMax = bytes(System.getProperty("tg.tx.max", "256m"));

        long t0 = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                // user-facing log (startup messages, errors) goes to stdout; debug.log stays in HOME/logs
                .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, txGlobal)
                .setConfig(GraphDatabaseSettings.memory_transaction_max_size, txMax)
                // do not preallocate 256 MiB transaction log files in the temp dir
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // no usage-data pings from test servers
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // internal Bolt settings: shorten the shutdown waits (defaults add ~10 s to every stop)
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("SHUTTING DOWN");
            System.out.flush();
            try {
                dbms.shutdown();
            } catch (Throwable t) {
                t.printStackTrace();
            } finally {
                System.out.println("STOPPED");
                System.out.flush();
                stopped.countDown();
            }
        }, "techgiants-neo4j-shutdown"));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(Duration.ofMinutes(3).toMillis())) {
            System.out.println("FAILED: database " + db.databaseName() + " not available");
            System.out.flush();
            System.exit(1);
        }

        if (args.length >= 3) {
            long watched = Long.parseLong(args[2]);
            ProcessHandle.of(watched).ifPresentOrElse(
                    ph -> ph.onExit().thenRun(() -> {
                        System.out.println("watched pid " + watched + " exited");
                        System.exit(0);
                    }),
                    () -> {
                        System.out.println("watched pid " + watched + " not running");
                        System.exit(0);
                    });
        }

        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.println("Neo4j " + org.neo4j.kernel.internal.Version.getNeo4jVersion()
                + " started in " + ms + " ms, home " + home);
        System.out.println("BOLT READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }
}
