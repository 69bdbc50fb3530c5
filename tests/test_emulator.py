import reconciler
def test_x(): pass
