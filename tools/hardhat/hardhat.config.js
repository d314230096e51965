// Hardhat 2 configuration for twinecon's local JSON-RPC node (`twinecon node start`,
// chain/node.py). Only the built-in `hardhat` network is used; no Solidity is compiled, so
// no compiler is ever downloaded. Environment (set by chain/node.py):
//   TWINECON_CHAIN_ID          chain id of the node (default 31337)
//   TWINECON_HARDHAT_LOGGING   "true" logs every JSON-RPC request to the node's log (default off)
// Telemetry: chain/node.py sets HARDHAT_DISABLE_TELEMETRY_PROMPT=true; without consent hardhat
// sends nothing, and its banner / version checks only run on an interactive terminal.

const chainId = Number.parseInt(process.env.TWINECON_CHAIN_ID ?? "31337", 10);
if (!Number.isSafeInteger(chainId) || chainId <= 0) {
  throw new Error(`TWINECON_CHAIN_ID must be a positive integer, got ${process.env.TWINECON_CHAIN_ID}`);
}

/** @type {import("hardhat/config").HardhatUserConfig} */
module.exports = {
  defaultNetwork: "hardhat",
  networks: {
    hardhat: {
      chainId,
      allowUnlimitedContractSize: false,
      mining: { auto: true },
      loggingEnabled: process.env.TWINECON_HARDHAT_LOGGING === "true",
    },
  },
  // Keep hardhat's working folders inside this (git-ignored) package folder.
  paths: {
    cache: "./node_modules/.cache/hardhat",
    artifacts: "./node_modules/.cache/hardhat-artifacts",
  },
};
