"""The `network_top_influencers` most central accounts of each topic's repost+quote graph over the network
window, by PageRank on the directed graph (reposter -> original author, weighted by posts), with in-degree,
weighted in-degree, reach (distinct accounts that reposted them), betweenness (exact up to
`network_exact_betweenness_nodes` nodes, else sampled from `network_betweenness_samples` sources with a
fixed seed, at most `network_betweenness_budget` edge visits) and community.
Code: `discourse.transform.network_graph`; docs/network.md.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from discourse.transform.network_graph import NetworkParams, influencers

    # dbt passes a Python model only the config keys it sees read literally, one call each
    config = {
        "network_window_days": dbt.config.get("network_window_days"),
        "network_seed": dbt.config.get("network_seed"),
        "network_max_edges": dbt.config.get("network_max_edges"),
        "network_exact_betweenness_nodes": dbt.config.get("network_exact_betweenness_nodes"),
        "network_betweenness_samples": dbt.config.get("network_betweenness_samples"),
        "network_betweenness_budget": dbt.config.get("network_betweenness_budget"),
        "network_top_influencers": dbt.config.get("network_top_influencers"),
    }
    params = NetworkParams.from_config(config.get)
    return influencers(session, dbt.ref("int_post_edges"), dbt.ref("community_members"), params)
