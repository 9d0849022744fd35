import Platform

/// The inputs of a distributed read, cut into pieces the ranks read apart: a whole file, or a
/// stretch of whole lines of a large plain file. The cuts depend on the files alone — never on
/// the number of ranks — so every rank count reads the same pieces, and pieces merged in
/// order give what one reader gives.
public struct InputPlan: Sendable, Equatable {
    public struct Piece: Sendable, Equatable {
        /// Index into `files`.
        public let file: Int
        public let format: EventFormat
        /// Bytes of a plain file; nil for the whole file (gzip, Slack exports, small files).
        public let range: Range<Int>?
        /// 0 for a whole file or a file's first stretch: the piece that also checksums the file.
        public let part: Int
    }

    public let files: [String]
    public let pieces: [Piece]

    /// Plain files above this size are read in stretches of about this many bytes.
    public static let defaultStretchBytes = 64 << 20

    /// - Throws: `IngestError` for a missing file, an unknown format, or one Slack workspace id
    ///   given for several exports (as `EventLogReader.read`).
    public static func make(_ arguments: [String], options: IngestOptions, stretchBytes: Int = defaultStretchBytes) throws(IngestError) -> InputPlan {
        let files = try InputFiles.expand(arguments)
        if options.slack.workspaceID != nil, files.filter({ (options.format ?? EventFormat.guess(path: $0)) == .slackExport }).count > 1 {
            throw .unreadableFile(path: files.joined(separator: ", "), reason: "one Slack workspace id is given for several exports; read them one at a time or import each with its own id")
        }
        var pieces: [Piece] = []
        for (index, path) in files.enumerated() {
            guard let format = options.format ?? EventFormat.guess(path: path) else { throw .unknownFormat(path: path) }
            let cuts = format == .slackExport ? nil : try stretches(of: path, bytes: stretchBytes)
            guard let cuts, cuts.count > 2 else {
                pieces.append(Piece(file: index, format: format, range: nil, part: 0))
                continue
            }
            for (part, (start, end)) in zip(cuts, cuts.dropFirst()).enumerated() {
                pieces.append(Piece(file: index, format: format, range: start..<end, part: part))
            }
        }
        return InputPlan(files: files, pieces: pieces)
    }

    /// Line-end cuts of a plain file larger than `bytes`; nil for gzip or a small file.
    private static func stretches(of path: String, bytes: Int) throws(IngestError) -> [Int]? {
        let (source, gzip) = try ByteSources.open(path)
        guard !gzip, let file = source as? PlainFile else { return nil }
        do throws(Errno) {
            let size = try file.descriptor.status().size
            guard size > bytes else { return nil }
            return try FileRange.lineCuts(of: file.descriptor, size: size, parts: (size + bytes - 1) / bytes)
        } catch { throw .unreadableFile(path: path, reason: "\(error)") }
    }

    /// The plan as bytes, for rank 0 to hand every rank the same cuts.
    public var wire: [UInt8] {
        var w = WireWriter()
        w.strings(files)
        w.int(pieces.count)
        for p in pieces {
            w.int(p.file); w.string(p.format.rawValue); w.int(p.part)
            w.bool(p.range != nil); w.int(p.range?.lowerBound ?? 0); w.int(p.range?.upperBound ?? 0)
        }
        return w.bytes
    }

    public init(wire bytes: [UInt8]) throws(WireReader.Malformed) {
        var r = WireReader(bytes)
        files = try r.strings()
        let n = try r.int()
        var pieces: [Piece] = []
        for _ in 0..<max(0, n) {
            let file = try r.int(), formatName = try r.string(), part = try r.int()
            let ranged = try r.bool(), lower = try r.int(), upper = try r.int()
            guard let format = EventFormat(rawValue: formatName), files.indices.contains(file), lower <= upper else {
                throw WireReader.Malformed(offset: r.offset, reason: "a piece of an unknown file or format")
            }
            pieces.append(Piece(file: file, format: format, range: ranged ? lower..<upper : nil, part: part))
        }
        try r.finish()
        self.pieces = pieces
    }

    init(files: [String], pieces: [Piece]) {
        self.files = files
        self.pieces = pieces
    }
}
