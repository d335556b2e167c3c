import CRabbitMQ

/// Copies of what rabbitmq-c hands out: its memory is reused once buffers are released, so nothing
/// decoded here may keep a pointer into it.
enum CDecoding {
    static func string(_ bytes: amqp_bytes_t) -> String {
        guard let base = bytes.bytes, bytes.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }

    static func array(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard let base = bytes.bytes, bytes.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }

    static func table(_ table: amqp_table_t) -> AMQPTable {
        guard let entries = table.entries, table.num_entries > 0 else { return AMQPTable() }
        var result = AMQPTable()
        result.entries.reserveCapacity(Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result.entries.append(AMQPTable.Entry(key: string(entry.key), value: value(entry.value)))
        }
        return result
    }

    static func value(_ field: amqp_field_value_t) -> AMQPFieldValue {
        switch field.kind {
        case CArena.kind(AMQP_FIELD_KIND_BOOLEAN): return .boolean(field.value.boolean != 0)
        case CArena.kind(AMQP_FIELD_KIND_I8): return .integer(Int64(field.value.i8))
        case CArena.kind(AMQP_FIELD_KIND_U8): return .integer(Int64(field.value.u8))
        case CArena.kind(AMQP_FIELD_KIND_I16): return .integer(Int64(field.value.i16))
        case CArena.kind(AMQP_FIELD_KIND_U16): return .integer(Int64(field.value.u16))
        case CArena.kind(AMQP_FIELD_KIND_I32): return .integer(Int64(field.value.i32))
        case CArena.kind(AMQP_FIELD_KIND_U32): return .integer(Int64(field.value.u32))
        case CArena.kind(AMQP_FIELD_KIND_I64): return .integer(field.value.i64)
        case CArena.kind(AMQP_FIELD_KIND_U64): return .unsigned(field.value.u64)
        case CArena.kind(AMQP_FIELD_KIND_F32): return .double(Double(field.value.f32))
        case CArena.kind(AMQP_FIELD_KIND_F64): return .double(field.value.f64)
        case CArena.kind(AMQP_FIELD_KIND_DECIMAL):
            return .decimal(decimals: field.value.decimal.decimals, value: field.value.decimal.value)
        case CArena.kind(AMQP_FIELD_KIND_UTF8): return .string(string(field.value.bytes))
        case CArena.kind(AMQP_FIELD_KIND_BYTES): return .bytes(array(field.value.bytes))
        case CArena.kind(AMQP_FIELD_KIND_TIMESTAMP): return .timestamp(field.value.u64)
        case CArena.kind(AMQP_FIELD_KIND_TABLE): return .table(table(field.value.table))
        case CArena.kind(AMQP_FIELD_KIND_ARRAY):
            let array = field.value.array
            guard let entries = array.entries, array.num_entries > 0 else { return .array([]) }
            return .array((0..<Int(array.num_entries)).map { value(entries[$0]) })
        default: return .void
        }
    }

    static func properties(_ c: amqp_basic_properties_t) -> AMQPProperties {
        let flags = c._flags
        func text(_ flag: Int32, _ bytes: amqp_bytes_t) -> String? {
            flags & UInt32(flag) != 0 ? string(bytes) : nil
        }
        var properties = AMQPProperties()
        properties.contentType = text(AMQP_BASIC_CONTENT_TYPE_FLAG, c.content_type)
        properties.contentEncoding = text(AMQP_BASIC_CONTENT_ENCODING_FLAG, c.content_encoding)
        properties.correlationID = text(AMQP_BASIC_CORRELATION_ID_FLAG, c.correlation_id)
        properties.replyTo = text(AMQP_BASIC_REPLY_TO_FLAG, c.reply_to)
        properties.expiration = text(AMQP_BASIC_EXPIRATION_FLAG, c.expiration)
        properties.messageID = text(AMQP_BASIC_MESSAGE_ID_FLAG, c.message_id)
        properties.type = text(AMQP_BASIC_TYPE_FLAG, c.type)
        properties.userID = text(AMQP_BASIC_USER_ID_FLAG, c.user_id)
        properties.appID = text(AMQP_BASIC_APP_ID_FLAG, c.app_id)
        if flags & UInt32(AMQP_BASIC_HEADERS_FLAG) != 0 { properties.headers = table(c.headers) }
        if flags & UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 { properties.deliveryMode = c.delivery_mode }
        if flags & UInt32(AMQP_BASIC_PRIORITY_FLAG) != 0 { properties.priority = c.priority }
        if flags & UInt32(AMQP_BASIC_TIMESTAMP_FLAG) != 0 { properties.timestamp = c.timestamp }
        return properties
    }
}
