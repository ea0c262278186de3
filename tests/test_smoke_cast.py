def test_cast_logs_in(verified_client, director_a):
    """R-ACC-5: a verified session of the director reaches the dashboard."""
    response = verified_client(director_a).get("/")
    assert response.status_code == 200
