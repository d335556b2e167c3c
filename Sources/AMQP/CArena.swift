import CRabbitMQ
import Glibc

/// C memory for one rabbitmq-c call: strings, tables and properties that must stay put while the
/// library reads them, freed together when the arena goes. rabbitmq-c only borrows `amqp_bytes_t`
/// (c-interop.md), so a pointer into a Swift temporary would dangle.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { free(block) }
    }

    /// Runs `body` with a fresh arena, freed when it returns.
    static func with<Result>(_ body: (CArena) throws -> Result) rethrows -> Result {
        let arena = CArena()
        return try withExtendedLifetime(arena) { try body(arena) }
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        // malloc(0) may return nil; one byte keeps every pointer valid.
        guard let block = malloc(max(count, 1)) else { fatalError("out of memory allocating \(count) bytes") }
        blocks.append(block)
        return block
    }

    func bytes(_ text: String) -> amqp_bytes_t {
        bytes(Array(text.utf8))
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        let block = allocate(array.count)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress { block.copyMemory(from: base, byteCount: source.count) }
        }
        return amqp_bytes_t(len: array.count, bytes: block)
    }

    /// A NUL-terminated copy, for the few calls that take `char *`.
    func cString(_ text: String) -> UnsafePointer<CChar> {
        let utf8 = Array(text.utf8)
        let block = allocate(utf8.count + 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { block[index] = CChar(bitPattern: byte) }
        block[utf8.count] = 0
        return UnsafePointer(block)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.entries.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.entries.count)
        for (index, entry) in table.entries.enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(entry.key), value: value(entry.value)))
        }
        return amqp_table_t(num_entries: Int32(table.entries.count), entries: entries)
    }

    func value(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case .boolean(let flag):
            field.kind = Self.kind(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = flag ? 1 : 0
        case .integer(let number):
            field.kind = Self.kind(AMQP_FIELD_KIND_I64)
            field.value.i64 = number
        case .unsigned(let number):
            field.kind = Self.kind(AMQP_FIELD_KIND_U64)
            field.value.u64 = number
        case .double(let number):
            field.kind = Self.kind(AMQP_FIELD_KIND_F64)
            field.value.f64 = number
        case .string(let text):
            field.kind = Self.kind(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(text)
        case .bytes(let data):
            field.kind = Self.kind(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(data)
        case .timestamp(let seconds):
            field.kind = Self.kind(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = seconds
        case .decimal(let decimals, let number):
            field.kind = Self.kind(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: decimals, value: number)
        case .table(let nested):
            field.kind = Self.kind(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(nested)
        case .array(let items):
            field.kind = Self.kind(AMQP_FIELD_KIND_ARRAY)
            let storage = allocate(MemoryLayout<amqp_field_value_t>.stride * max(items.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(items.count, 1))
            for (index, item) in items.enumerated() { (storage + index).initialize(to: self.value(item)) }
            field.value.array = amqp_array_t(num_entries: Int32(items.count), entries: items.isEmpty ? nil : storage)
        case .void:
            field.kind = Self.kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    /// The properties as rabbitmq-c wants them, with `_flags` saying which are set.
    func properties(_ properties: AMQPProperties) -> UnsafeMutablePointer<amqp_basic_properties_t> {
        let pointer = allocate(MemoryLayout<amqp_basic_properties_t>.stride)
            .bindMemory(to: amqp_basic_properties_t.self, capacity: 1)
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func set(_ text: String?, _ flag: Int32, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) {
            guard let text else { return }
            c[keyPath: field] = bytes(text)
            flags |= UInt32(flag)
        }
        set(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG, \.content_type)
        set(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG, \.content_encoding)
        set(properties.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG, \.correlation_id)
        set(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG, \.reply_to)
        set(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG, \.expiration)
        set(properties.messageID, AMQP_BASIC_MESSAGE_ID_FLAG, \.message_id)
        set(properties.type, AMQP_BASIC_TYPE_FLAG, \.type)
        set(properties.userID, AMQP_BASIC_USER_ID_FLAG, \.user_id)
        set(properties.appID, AMQP_BASIC_APP_ID_FLAG, \.app_id)
        if !properties.headers.isEmpty {
            c.headers = table(properties.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        if let mode = properties.deliveryMode {
            c.delivery_mode = mode
            flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        }
        if let priority = properties.priority {
            c.priority = priority
            flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG)
        }
        if let timestamp = properties.timestamp {
            c.timestamp = timestamp
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        c._flags = flags
        pointer.initialize(to: c)
        return pointer
    }

    static func kind(_ kind: amqp_field_value_kind_t) -> UInt8 {
        UInt8(truncatingIfNeeded: kind.rawValue)
    }
}
