// Graceful shutdown on SIGINT and SIGTERM: the first signal asks the pipeline to finish the
// frame in hand and report; a second one exits at once.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Set from the signal handler; read by the pipeline between frames. An atomic store is
/// async-signal-safe, which a lock or a log call is not.
let shutdownSignal = Atomic<Int32>(0)

public enum Shutdown {
    /// Installs the handlers. Call once at start-up.
    public static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { received in
                if shutdownSignal.exchange(received, ordering: .relaxed) != 0 { _exit(128 + received) }
            }
            #else
            action.__sigaction_u.__sa_handler = { received in
                if shutdownSignal.exchange(received, ordering: .relaxed) != 0 { _exit(128 + received) }
            }
            #endif
            sigemptyset(&action.sa_mask)
            // No SA_RESTART: a pacing sleep is interrupted so shutdown does not wait a frame.
            action.sa_flags = 0
            sigaction(signalNumber, &action, nil)
        }
        // A parent may have started us with these signals blocked (a blocked mask is inherited
        // across exec, and some supervisors and test runners block them): the handler would
        // then never run. Unblock them for this thread, which runs the pipeline.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The signal that asked for shutdown, or nil.
    public static var requestedBy: Int32? {
        let value = shutdownSignal.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
}
