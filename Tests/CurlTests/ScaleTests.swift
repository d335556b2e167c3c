import Curl
import Glibc
import Synchronization
import Testing

extension CurlMultiLoopTests {
    @Test func carriesAThousandConcurrentStreamsOnOneThread() async throws {
        raiseOpenFileLimit(to: 8192)
        let server = try TestHTTPServer()
        defer { server.stop() }
        let loop = try CurlMultiLoop(name: "curl-1000")
        defer { loop.shutdown() }
        let count = 1000
        let chunks = 20
        let size = 64
        let rssBefore = residentSetSize()

        // Each delegate pushes an idle deadline on every chunk, as the LLM client will.
        let delegates = (0..<count).map { _ in
            RecordingDelegate { id, _ in loop.setDeadline(id, .now + .seconds(30), reason: "idle") }
        }
        let started = ContinuousClock.now
        for (index, delegate) in delegates.enumerated() {
            let url = server.url("/stream?id=m\(index)&chunks=\(chunks)&size=\(size)&interval=10&gate=1")
            loop.start(CurlRequest(url: url), delegate: delegate)
        }
        // Every stream sent its first chunk and waits at the gate: all 1000 are open at once.
        #expect(await eventually(timeout: .seconds(60)) { delegates.allSatisfy { $0.snapshot.bodyBytes == size } })
        #expect(loop.activeTransfers == count)
        #expect(server.connectionsAccepted >= count)
        let rssAtPeak = residentSetSize()
        for index in 0..<count {
            server.releaseGate("m\(index)")
        }
        #expect(await eventually(timeout: .seconds(120)) { delegates.allSatisfy(\.isComplete) })
        let elapsed = ContinuousClock.now - started

        let expected = (0..<chunks).flatMap { Array(repeating: chunkByte($0), count: size) }
        var threads: Set<UInt> = []
        var complete = 0
        for delegate in delegates {
            let result = delegate.snapshot
            threads.formUnion(result.threads)
            if result.error == nil, result.completions.count == 1, result.body == expected,
                result.events == [.head, .body, .complete]
            {
                complete += 1
            }
        }
        #expect(complete == count)
        #expect(threads.count == 1)
        #expect(!threads.contains(UInt(pthread_self())))
        #expect(loop.activeTransfers == 0)
        let stats = loop.statistics
        print(
            "[CurlTests] \(count) streams x \(chunks) chunks: \(elapsed), RSS before \(rssBefore), with 1000 open "
                + "\(rssAtPeak), after \(residentSetSize()); loop iterations \(stats.iterations), deadline scans "
                + "\(stats.deadlineScans)")
    }
}
