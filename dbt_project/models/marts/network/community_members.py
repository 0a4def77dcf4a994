"""Every account of each topic's repost+quote graph over the network window, with its community.

The graph is undirected, weighted by the number of repost and quote posts between two accounts,
self-loops dropped, one graph per `primary_topic` of the edges' posts plus `topic = 'all'`. The window is
the last `network_window_days` days ending at the newest repost/quote edge. Communities come from
Louvain (igraph's multilevel) with the fixed seed `network_seed`, numbered 1.. by size. A topic graph keeps its
`network_max_edges` heaviest account pairs (`graph_truncated`). Code: `discourse.transform.network_graph`;
definitions: docs/network.md.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from discourse.transform.network_graph import NetworkParams, community_members

    # dbt passes a Python model only the config keys it sees read literally, one call each
    config = {
        "network_window_days": dbt.config.get("network_window_days"),
        "network_seed": dbt.config.get("network_seed"),
        "network_max_edges": dbt.config.get("network_max_edges"),
    }
    params = NetworkParams.from_config(config.get)
    return community_members(session, dbt.ref("int_post_edges"), params)
