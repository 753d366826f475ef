import Foundation
import Reference

/// The order a submission's forward runs its blocks in, read from its ``ForwardGraph``: weight-shared
/// code applies a few unique blocks over a deeper schedule (`self.blocks[i % n]`, a layer map, a repeat
/// loop around `for block in self.blocks`), and the state dict holds only the unique blocks. The reference
/// takes the schedule as a parameter (``ArchitectureFeatures/blockSchedule``); what is read here is only a
/// candidate, and the whole forward is then compared with the description built for it, so anything
/// else a shared block does differently (a per-repeat constant scale; learned per-repeat vectors other than
/// ``ScheduleVectorReading`` reads) is refused.
enum BlockScheduleReading {
    /// The index `N` of every `linear(·, blocks.N.attn.c_q.weight)` the output depends on, in the order
    /// the code computes them (each application of a block projects its own input); nil when there is none
    /// or more than the reference runs.
    static func read(_ graph: ForwardGraph, root: Int) -> [Int]? {
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += graph[id].inputs }
        }
        var schedule: [Int] = []
        for id in reachable.sorted() where graph[id].op == "linear" && graph[id].inputs.count == 2 {
            let weight = graph[graph[id].inputs[1]]
            guard weight.op == "param", case .text(let name)? = weight.attribute("name"),
                  let block = blockIndex(name) else { continue }
            schedule.append(block)
        }
        guard !schedule.isEmpty, schedule.count <= FamilyGPTModel.maxScheduledDepth else { return nil }
        return schedule
    }

    /// `N` of `blocks.N.attn.c_q.weight`.
    private static func blockIndex(_ name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count == 5, parts[0] == "blocks", parts[2] == "attn", parts[3] == "c_q", parts[4] == "weight" else { return nil }
        return Int(parts[1])
    }
}
