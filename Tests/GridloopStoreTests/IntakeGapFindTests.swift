import GridloopStore
import XCTest

/// How a stored offset and a partition's watermarks make a gap (`IntakeGap.find`); recording and
/// reporting gaps is `IntakeGapTests`' (GridloopIntegrationTests). No servers needed.
final class IntakeGapFindTests: XCTestCase {
    /// What is a gap and what is not: a never-seen partition (-2) and an offset at the high
    /// watermark (the next message to come) are not.
    func testWhatIsAGap() {
        func find(_ stored: Int64, _ low: Int64, _ high: Int64) -> IntakeGap? {
            IntakeGap.find(topic: "t", partition: 3, stored: stored, low: low, high: high)
        }
        XCTAssertNil(find(-2, 500, 900), "beginning: a partition never seen")
        XCTAssertNil(find(500, 500, 900), "at the log start")
        XCTAssertNil(find(700, 500, 900))
        XCTAssertNil(find(900, 500, 900), "at the high watermark")
        XCTAssertNil(find(0, 0, 0), "an empty partition")
        let deleted = find(100, 500, 900)
        XCTAssertEqual(deleted?.fromOffset, 100)
        XCTAssertEqual(deleted?.toOffset, 500)
        XCTAssertEqual(deleted?.messagesLost, 400)
        XCTAssertEqual(deleted?.partition, 3)
        let recreated = find(5000, 0, 40)
        XCTAssertEqual(recreated?.fromOffset, 5000)
        XCTAssertEqual(recreated?.toOffset, 0, "read the recreated topic from its start")
        XCTAssertNil(recreated?.messagesLost, "unknown")
        XCTAssertTrue(recreated?.reason.contains("recreated") == true)
    }
}
