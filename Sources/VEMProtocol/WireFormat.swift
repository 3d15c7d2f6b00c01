/// The VEM wire format, version 2: constants and frame-header helpers.
///
/// ## Framing
/// A connection carries a sequence of frames. Each frame is
/// ```
/// frame  = length:u32-big-endian  body[length]
/// body   = version:u8 (= 2)  msg_type:u8  fields…
/// ```
/// `length` counts the body only and must be `2 ... maximumFrameSize` (default 1 MiB). A receiver checks the
/// length prefix as soon as its 4 bytes arrive and fails with `oversized_frame` *before* buffering the body.
/// A body must be consumed exactly by its fields: trailing bytes are `malformed_field`.
///
/// ## Primitive field encodings
/// ```
/// varint   unsigned LEB128 (7 bits per byte, low groups first, high bit = more), at most 10 bytes for 64 bits,
///          minimal (no trailing 0x00 group); u64 fields use it
/// zigzag   signed integer mapped (n << 1) ^ (n >> 63), then varint; i64/i32 fields use it
/// u8       one byte
/// bool     one byte, 0 or 1 (anything else is malformed)
/// f64      8 bytes, IEEE-754 bit pattern, big-endian
/// string   varint byte count, then that many bytes of valid UTF-8
/// opt<T>   one byte 0 (absent) or 1 followed by T
/// list<T>  varint element count, then the elements (a count larger than the remaining bytes is malformed)
/// value    tag:u8 then: 0 null | 1 bool | 2 zigzag (int) | 3 f64 (float) | 4 string (str)
///          | 6 list<value> (list) | 7 varint count, then count × (string key, value) with keys strictly
///          ascending (dict); lists and dicts nest at most 32 deep. (Tag 5, JSON text, was version 1's.)
/// named    string name, value
/// ```
///
/// ## Messages (`msg_type` byte, then the fields in this order)
/// ```
///  1 hello           name:string role:u8(0 dom0, 1 domU, 2 batch) host:string group:opt<string>
///                    vm_id:opt<string> version:string incarnation:varint token:string
///                    last_executed_seq:varint held_results:list<varint>
///  2 welcome         manager_incarnation:varint heartbeat_ms:varint resumed:bool command_base:varint
///                    results_received_through:varint results_received_above:list<varint>
///  3 reject          reason:u8(0 other, 1 bad_credentials, 2 unsupported_version, 3 duplicate_name,
///                    4 forbidden, 5 shutting_down) detail:string
///  4 heartbeat       timestamp_ms:varint
///  5 get_property    request_id:varint names:list<string>
///  6 property        request_id:varint readings:list<reading>
///                    reading = name:string timestamp_ms:varint (value | 15:u8 error:string)
///  7 command         seq:varint name:string arguments:list<named>
///  8 command_ack     through:varint
///  9 command_result  seq:varint status:u8(0 ok, 1 failed, 2 refused) exit_code:opt<zigzag (i32)>
///                    output:string output_truncated:bool error:opt<string> duration_us:varint
/// 10 result_ack      through:varint above:list<varint>
/// 11 event           kind:string timestamp_ms:varint attributes:list<named>
/// 12 bye             reason:string
/// ```
/// The encoding is canonical: a body the decoder accepts re-encodes to the same bytes.
///
/// Golden example — `heartbeat(timestamp_ms: 300)`:
/// `00 00 00 04  02 04 ac 02` (length 4, version 2, msg_type 4, varint 300).
public enum WireFormat {
    /// The protocol version this build speaks (the first byte of every body). A body of another version is
    /// refused with ``ProtocolError/Code/unsupportedVersion``. Version 2 replaced version 1's JSON-text values
    /// with lists and dicts.
    public static let version: UInt8 = 2
    /// Bytes in the length prefix.
    public static let lengthPrefixSize = 4
    /// The default maximum body size: 1 MiB.
    public static let defaultMaximumFrameSize = 1 << 20
    /// The smallest legal body: a version byte and a `msg_type` byte.
    public static let minimumBodySize = 2

    /// The tag that marks a property reading's error instead of a value.
    static let readingErrorTag: UInt8 = 15

    /// Reads the length prefix at the start of `bytes`, if all 4 bytes are there, and checks it.
    ///
    /// A NIO `ByteToMessageDecoder` can call this on its readable bytes: `nil` means "need more data";
    /// a number is the body length (the whole frame is `4 + length` bytes).
    /// - Parameters:
    ///   - bytes: The start of the unread stream.
    ///   - maximumFrameSize: The largest acceptable body.
    /// - Returns: The body length, or `nil` when fewer than 4 bytes are available.
    /// - Throws: ``ProtocolError/Code/oversizedFrame`` or ``ProtocolError/Code/malformedField`` (length < 2).
    @inlinable
    public static func peekBodyLength(
        _ bytes: UnsafeRawBufferPointer, maximumFrameSize: Int = defaultMaximumFrameSize
    ) throws(ProtocolError) -> Int? {
        guard bytes.count >= lengthPrefixSize else { return nil }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        if length > maximumFrameSize {
            throw ProtocolError(
                .oversizedFrame, "frame of \(length) bytes exceeds the maximum of \(maximumFrameSize)", offset: 0)
        }
        if length < minimumBodySize {
            throw ProtocolError(.malformedField, "frame of \(length) bytes is shorter than the 2-byte header", offset: 0)
        }
        return length
    }
}
