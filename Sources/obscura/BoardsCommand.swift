// `obscura boards`: list the board profiles, or show one with the budgets its modes imply.

import ArgumentParser
import Boards
import Foundation

struct BoardsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boards",
        abstract: "List the board profiles, or show one.",
        discussion: "Profiles are YAML files in Boards/ (or --boards-dir, or $OBSCURA_BOARDS_DIR).",
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct Location: ParsableArguments {
        @Option(name: .customLong("boards-dir"), help: ArgumentHelp("Folder of board profiles.", valueName: "folder"))
        var boardsDirectory: String?

        var catalog: BoardCatalog {
            boardsDirectory.map(BoardCatalog.init(folder:)) ?? BoardCatalog.locate()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the board profiles.")
        @OptionGroup var location: Location

        func run() throws {
            let profiles = try location.catalog.loadAll()
            let width = profiles.map(\.name.count).max() ?? 0
            for profile in profiles {
                let name = profile.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("\(name)  \(profile.title): \(profile.cores)x \(profile.cpuCore) @ \(profile.clockMHz) MHz, \(profile.cameraModes.count) camera modes")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one board profile and its per-frame budgets.")
        @OptionGroup var location: Location
        @Argument(help: "The board's name, as `obscura boards` lists it.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let profile = try location.catalog.load(name)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(profile), as: UTF8.self))
                return
            }
            print("\(profile.name): \(profile.title)")
            print("  SoC      \(profile.soc)")
            print("  CPU      \(profile.cores)x \(profile.cpuCore) @ \(profile.clockMHz) MHz")
            print("  RAM      \(profile.ramMB.map { $0 >= 1024 ? "\($0 / 1024) GB" : "\($0) MB" }.joined(separator: ", "))")
            print("  storage  \(profile.storage.joined(separator: ", "))")
            print("  reserve  \(profile.reserveMs) ms per frame for encode and I/O")
            let factors = profile.costFactors
            print("  cost     JPEG decode x\(factors.jpegDecode), encode x\(factors.jpegEncode), pixel kernels x\(factors.pixelKernels), cascade x\(factors.cascade) (vs the reference host core)")
            print("  camera modes (budget = 1000/fps - reserve):")
            for mode in profile.cameraModes {
                let budget = String(format: "%.1f", profile.budgetMs(for: mode))
                print("    \(mode.description.padding(toLength: 22, withPad: " ", startingAt: 0)) budget \(budget) ms  (\(mode.via))")
            }
            print("  file     \(profile.file)")
        }
    }
}
