import Foundation

/// One document of the validation stream: its ordinal among all documents (the records'
/// `doc_entries[i][0]`), first token (a BOS) and length (through the next BOS, inclusive).
public struct PhasedTTTDocument: Sendable, Equatable, Codable {
    public var index: Int
    public var start: Int
    public var length: Int

    public init(index: Int, start: Int, length: Int) {
        self.index = index
        self.start = start
        self.length = length
    }

    /// Targets the document scores (`doc_len - 1`).
    public var predictions: Int { length - 1 }
}

/// The scoring window of one chunk of a document (`_compute_chunk_window`), in document positions.
public struct PhasedTTTChunkWindow: Sendable, Equatable {
    public var windowStart: Int
    public var windowLength: Int
    /// Where the chunk's first target sits inside the window.
    public var chunkOffset: Int
    public var chunkLength: Int
}

/// A global SGD step: the stream tokens `[start, end)` (inputs `start..<end-1`, targets one later).
public struct PhasedTTTGlobalStep: Sendable, Equatable {
    public var start: Int
    public var end: Int
}

/// A chunk of a global SGD phase that trains: its index, learning rate and steps (one epoch).
public struct PhasedTTTGlobalChunk: Sendable, Equatable {
    public var chunk: Int
    public var learningRate: Double
    public var steps: [PhasedTTTGlobalStep]
}

/// The pure scheduling of phased TTT — which documents, in which batches and order, which windows,
/// where phases end, and the global SGD's chunks and learning rates — as the records' helper functions
/// (`_find_docs`, `_select_ttt_doc_entries`, `_build_ttt_global_batches`, `_compute_chunk_window`,
/// `_build_cu_seqlens`, and the loops of `train_val_ttt_global_sgd_distributed`) compute them for a
/// single rank.
public enum PhasedTTTPlan {
    /// `_find_docs`: each BOS starts a document that runs through the next BOS (the last to the end
    /// of the stream). Tokens before the first BOS belong to no document.
    public static func documents(in tokens: [UInt16], bos: UInt16 = 1) throws(TTTError) -> [PhasedTTTDocument] {
        let starts = tokens.indices.filter { tokens[$0] == bos }
        var documents: [PhasedTTTDocument] = []
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1] + 1 : tokens.count
            guard end - start >= 2 else { throw .emptyDocument(position: start) }
            documents.append(PhasedTTTDocument(index: i, start: start, length: end - start))
        }
        guard !documents.isEmpty else { throw .noDocuments }
        return documents
    }

    /// `_select_ttt_doc_entries` with `val_doc_fraction` 1: every document, or the first
    /// `ttt_doc_limit` (2026-04-13's extra setting) when that is positive.
    public static func selected(_ documents: [PhasedTTTDocument], docLimit: Int) -> [PhasedTTTDocument] {
        docLimit > 0 ? Array(documents.prefix(docLimit)) : documents
    }

    /// `_build_ttt_global_batches`: documents sorted by length (stable), cut into batches of
    /// `batchSize`; unless `ascending`, batches ordered by their longest document, longest first
    /// (stable, so ties keep their index order). Returns `(batch index, documents)` in claim order.
    public static func batches(_ documents: [PhasedTTTDocument], batchSize: Int, ascending: Bool = false) -> [(index: Int, documents: [PhasedTTTDocument])] {
        let sorted = documents.enumerated().sorted { a, b in
            a.element.length != b.element.length ? a.element.length < b.element.length : a.offset < b.offset
        }.map(\.element)
        var batches: [(index: Int, documents: [PhasedTTTDocument])] = []
        for (n, first) in stride(from: 0, to: sorted.count, by: batchSize).enumerated() {
            batches.append((n, Array(sorted[first..<min(first + batchSize, sorted.count)])))
        }
        if ascending { return batches }
        let longest = batches.map { $0.documents.map(\.length).max() ?? 0 }
        return batches.indices.sorted { a, b in longest[a] != longest[b] ? longest[a] > longest[b] : a < b }
            .map { batches[$0] }
    }

    /// Chunks of a document with `predictions` targets.
    public static func chunkCount(predictions: Int, chunkSize: Int) -> Int {
        (predictions + chunkSize - 1) / chunkSize
    }

    /// `_compute_chunk_window`: chunk `chunk` of `chunks` ends at `(chunk + 1) · chunkSize` (the
    /// last at `predictions`); its window reaches back at most `evalSeqLen` positions.
    public static func window(chunk: Int, predictions: Int, chunks: Int, chunkSize: Int, evalSeqLen: Int) -> PhasedTTTChunkWindow {
        let chunkEnd = chunk == chunks - 1 ? predictions : (chunk + 1) * chunkSize
        let windowStart = max(0, chunkEnd - evalSeqLen)
        let chunkStart = chunk * chunkSize
        return PhasedTTTChunkWindow(windowStart: windowStart, windowLength: chunkEnd - windowStart,
                                    chunkOffset: chunkStart - windowStart, chunkLength: chunkEnd - chunkStart)
    }

    /// The phase boundaries: `prefix · (p + 1) // phases` documents for each phase `p`.
    public static func phaseBoundaries(prefixDocs: Int, documents: Int, phases: Int) -> [Int] {
        let limit = max(0, min(documents, prefixDocs)), count = max(1, phases)
        return (0..<count).map { limit * ($0 + 1) / count }
    }

    /// How many batches (in claim order, of the sizes `batchSizes`) are scored before the last global
    /// phase has run, following the loop's rule: after each batch its documents count, and once the
    /// count reaches the next boundary that one phase runs. Every later batch sees the final weights.
    /// 0 without a prefix; every batch when the phases outnumber the batches that could trigger them.
    public static func prefixBatchCount(batchSizes: [Int], boundaries: [Int], prefixDocs: Int) -> Int {
        guard prefixDocs > 0, !boundaries.isEmpty else { return 0 }
        var phase = 0, done = 0
        for (position, size) in batchSizes.enumerated() {
            done += size
            guard done >= boundaries[phase] else { continue }
            phase += 1
            if phase == boundaries.count { return position + 1 }
        }
        return batchSizes.count
    }

    /// `_build_cu_seqlens` without its padding: segment starts at 0 and at each BOS, and every
    /// `maxDocLength` tokens inside a segment (when positive).
    public static func segmentStarts(bosPositions: [Int], total: Int, maxDocLength: Int) -> [Int] {
        let starts = bosPositions.first == 0 ? bosPositions : [0] + bosPositions
        var segments: [Int] = []
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1] : total
            if maxDocLength > 0 {
                var position = start
                while position < end {
                    segments.append(position)
                    position += maxDocLength
                }
            } else {
                segments.append(start)
            }
        }
        return segments
    }

    /// The learning rate of global chunk `chunk` of `chunks`: a linear warmup from
    /// `global_ttt_warmup_start_lr` over `min(warmup, chunks − 1)` chunks, then a cosine decay of
    /// `global_ttt_lr` over the remaining chunks.
    public static func globalLearningRate(chunk: Int, of chunks: Int, settings s: PhasedTTTSettings) -> Double {
        let warmup = max(0, min(s.globalWarmupChunks, chunks - 1))
        if warmup > 0 && chunk < warmup {
            let t = Double(chunk) / Double(max(warmup - 1, 1))
            return s.globalWarmupStartLearningRate + (s.globalLearningRate - s.globalWarmupStartLearningRate) * t
        }
        let decaySteps = max(chunks - 1 - warmup, 1), decayChunk = max(chunk - warmup, 0)
        return s.globalLearningRate * 0.5 * (1 + cos(Double.pi * Double(decayChunk) / Double(decaySteps)))
    }

    /// The chunks of one global SGD phase over a stream of `tokens` tokens (world size 1): the last
    /// chunk and chunks shorter than one sequence do not train; nothing trains with 0 epochs.
    public static func globalChunks(tokens: Int, settings s: PhasedTTTSettings) -> (chunks: Int, training: [PhasedTTTGlobalChunk]) {
        let total = tokens - 1, chunkTokens = s.globalChunkTokens, seqLen = s.globalSeqLen
        guard total > 0 else { return (0, []) }
        let chunks = (total + chunkTokens - 1) / chunkTokens
        var training: [PhasedTTTGlobalChunk] = []
        for chunk in 0..<chunks {
            let chunkStart = chunk * chunkTokens, chunkEnd = min((chunk + 1) * chunkTokens, total)
            if chunk == chunks - 1 || s.globalEpochs <= 0 { continue }
            let sequences = (chunkEnd - chunkStart) / seqLen
            if sequences <= 0 { continue }
            var steps: [PhasedTTTGlobalStep] = []
            for first in stride(from: 0, to: sequences, by: s.globalBatchSeqs) {
                let last = min(first + s.globalBatchSeqs, sequences)
                let start = chunkStart + first * seqLen, end = chunkStart + last * seqLen + 1
                if end > tokens { continue }
                steps.append(PhasedTTTGlobalStep(start: start, end: end))
            }
            training.append(PhasedTTTGlobalChunk(chunk: chunk, learningRate: globalLearningRate(chunk: chunk, of: chunks, settings: s),
                                                 steps: steps))
        }
        return (chunks, training)
    }
}
