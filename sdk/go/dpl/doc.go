// Pools, volumes, snapshots, clones and iSCSI exports on a ProphetStor DPL storage server.
package dpl
